"""Triton kernels for lstmlab, shipped as ``lstmlab.kernels``.

Importing this package does not import triton; each kernel module does, lazily.
"""
