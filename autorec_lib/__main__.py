import gc
import sys

from .cli import main

code = main()
gc.freeze()  # the process ends here: no need for a last collection to walk every object PyTorch made (0.7 s)
sys.exit(code)
