"""GPUs beyond the one-shot ``nvidia-smi`` query: AMD ``rocm-smi`` and the NVIDIA loop."""
