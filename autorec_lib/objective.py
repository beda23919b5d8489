"""The AutoRec objective, written once for NumPy arrays, PyTorch tensors and MXNet NDArrays alike.

The paper minimises, over the rows ``r`` of the rating matrix (items for I-AutoRec, users for U-AutoRec),

    Σ_r ‖(r − h(r)) ⊙ m_r‖²  +  λ/2 · (‖W‖²_F + ‖V‖²_F)

where ``m_r`` is 1 on observed entries and 0 elsewhere, so unobserved entries contribute nothing to
the loss and receive exactly zero gradient. Biases are not regularised.

On a mini-batch of ``B`` of the ``n`` rows the library uses
``Σ_batch ‖(r − h(r)) ⊙ m‖² + λ/2 · (B/n) · Σ ‖W‖²``, so the losses of one epoch add up to the
full objective. Relation to an optimizer's weight decay: the gradient of ``λ/2 ‖W‖²`` is ``λW``,
so on this summed (not averaged) loss, ``torch.optim.SGD``/``Adam`` with ``weight_decay=λ·B/n``
applied to the weight matrices only (a parameter group without the biases) is the same update.
With a loss averaged over the batch's ``N_B`` observed entries, as many tutorials use, the
equivalent weight decay is ``λ·B/(n·N_B)``. AdamW's decoupled decay is *not* equivalent.

Every learner trains on this objective; the fast ones write it in an equal form, and a test holds
each to the plain one (the same losses, gradients and steps, up to float rounding):

* ``torch_backend.AutoRecLearner`` (the reference): :func:`autorec_loss` on dense rows and their
  mask, differentiated by autograd.
* ``sparse.SparseAutoRecLearner``: :func:`masked_sse` at the rated entries (mask 1) plus the value of
  :func:`weight_penalty`; the penalty's gradient ``λ·(B/n)·W`` is added to ``.grad`` by hand
  (``tests/test_speed_paths.py``).
* ``torch_ddp.DistributedAutoRecLearner``: :func:`autorec_loss` on each process's shard of a batch,
  with its share ``len(shard)/n`` of the penalty (``tests/test_distributed.py``).
* ``mxnet_backend.AutoRecLearner``: with ``E`` the masked residual, ``Σ E²`` is the data term and
  ``2E`` is fed to ``backward``; the penalty's value is :func:`weight_penalty`, its gradient the
  optimizer's weight decay ``λ·B/n`` (``tests/test_mxnet_speed_paths.py``).
* MF, in both frameworks: :func:`masked_sse` of the batch's ratings plus :func:`weight_penalty` of
  their factors (MXNet runs the same sum as one hybridized graph; ``tests/test_mxnet_speed_paths.py``).
"""
from __future__ import annotations

import numpy as np


# The range of a bounded decoder f; ratings are mapped into it for the loss (see OutputScale).
DECODER_RANGE = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}


class OutputScale:
    """The affine map between ratings on ``scale`` (e.g. 1–5) and the decoder's output range.

    A sigmoid decoder's outputs lie in (0, 1) while ratings lie in [1, 5]: trained on raw ratings
    it could never fit them. So for a bounded decoder the loss compares its outputs with ratings
    mapped onto its range (``to_decoder``), and its outputs are mapped back onto the rating scale
    before anything is scored (``to_rating``). Unbounded decoders (identity, ReLU, ELU, SELU) use
    ratings as they are. Both maps are plain arithmetic, so they work on arrays of any framework.
    """

    def __init__(self, decoder: str, scale: tuple[float, float] | None):
        self.bounded = decoder in DECODER_RANGE
        self.a, self.b = 1.0, 0.0
        if self.bounded:
            if scale is None:
                raise ValueError(f"a {decoder} decoder needs the rating scale to map ratings into its "
                                 "range: pass scale=data.scale (e.g. (1.0, 5.0))")
            (low, high), (f_low, f_high) = scale, DECODER_RANGE[decoder]
            self.a = (f_high - f_low) / (high - low)
            self.b = f_low - self.a * low

    def to_decoder(self, ratings):
        return ratings * self.a + self.b if self.bounded else ratings

    def to_rating(self, outputs):
        return (outputs - self.b) / self.a if self.bounded else outputs


def masked_sse(pred, target, mask):
    """Σ ((pred − target) ⊙ mask)², for any array type with ``*``, ``**`` and ``.sum()``."""
    return (((pred - target) * mask) ** 2).sum()


def squared_norm(w):
    """‖W‖²_F = Σ w², for any array type."""
    return (w ** 2).sum()


def weight_penalty(weights, lam: float, fraction: float = 1.0, norm=squared_norm):
    """λ/2 · fraction · Σ ‖W‖²_F over weight matrices (pass no biases). ``norm`` computes ‖W‖²_F; the
    fast paths pass one that needs no temporary array of W's size (a dot product of W with itself)."""
    return 0.5 * lam * fraction * sum(norm(w) for w in weights)


def autorec_loss(pred, target, mask, weights, lam: float, fraction: float = 1.0):
    """Masked squared error plus the weight penalty: the paper's objective on a (mini-)batch."""
    return masked_sse(pred, target, mask) + weight_penalty(weights, lam, fraction)


# Hand-derived gradient (single hidden layer, sigmoid encoder g, identity decoder f), in NumPy.

def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def autorec_forward_numpy(R, V, mu, W, b):
    """Rows of ``R`` through ``h(r) = W·σ(V r + μ) + b``; returns (hidden, output)."""
    H = sigmoid(R @ V.T + mu)
    return H, H @ W.T + b


def autorec_gradients_numpy(R, M, V, mu, W, b, lam: float):
    """Gradients of the full objective, derived by hand (see notebook 03).

    With ``E = (h(R) − R) ⊙ M`` (the masked residual):
    ``∂/∂W = 2 Eᵀ H + λW``, ``∂/∂b = 2 Σ E``, ``∂/∂V = (2 E W ⊙ H(1−H))ᵀ R + λV``,
    ``∂/∂μ = Σ 2 E W ⊙ H(1−H)``. The mask zeroes every unobserved entry of ``E``, so those
    entries pass no gradient to any parameter.
    """
    H, out = autorec_forward_numpy(R, V, mu, W, b)
    E = (out - R) * M
    dW = 2 * E.T @ H + lam * W
    db = 2 * E.sum(axis=0)
    delta = (2 * E @ W) * H * (1 - H)
    dV = delta.T @ R + lam * V
    dmu = delta.sum(axis=0)
    return {"V": dV, "mu": dmu, "W": dW, "b": db}
