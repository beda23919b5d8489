"""autorec_lib: the library behind the AutoRec course.

Framework-neutral modules (data, splits, matrices, metrics, training loop) import without PyTorch
or MXNet; :mod:`autorec_lib.torch_backend` and :mod:`autorec_lib.mxnet_backend` hold the models.
"""
__version__ = "0.1.0"
