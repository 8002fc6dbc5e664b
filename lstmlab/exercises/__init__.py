"""Checks for the tutorials' exercises: ``check_<name>(your_function)``.

A check prints ✓ and returns True when your function is right; raises AssertionError saying what
differs when it is wrong; prints a reminder and returns False while the function still raises
NotImplementedError (so a notebook runs top to bottom before you have tried). Solutions:
``lstmlab.exercises.solutions`` (same names).
"""
from .theory import (  # noqa: F401
    check_lstm_step,
    check_lstm_cell_parameter_count,
    check_cell_half_life,
    check_lstm_output_shapes,
    check_lstm_parameter_count,
    check_reverse_within_lengths,
    check_gate_gradients,
    check_weight_hh_gradient,
    check_clip_grad_norm,
    check_forget_bias_to_keep,
)
from .forecasting import (  # noqa: F401
    check_lookback_windows,
    check_minmax_scale_train_only,
    check_mase,
    check_seq2seq_rows,
    check_batch_norm_features,
    check_forecast_from_changes,
)
from .sequences import (  # noqa: F401
    check_rollout,
    check_phase_drift_mse,
    check_softmax_with_temperature,
    check_perplexity_from_nll,
    check_bigram_perplexity,
)
from .kernels import (  # noqa: F401
    check_stable_sigmoid,
    check_persistent_grid,
    check_block_offsets_and_mask,
    check_median_ratio,
    check_ratio_from_speedup,
    check_geometric_mean,
)
from . import solutions  # noqa: F401,E402

check_perplexity = check_perplexity_from_nll       # its name before 2026-12-02: saved copies of notebook 07 use it
