// The argument check shared by the C++ ops of backend "bptt" (lstm_cpu_recurrence.cpp,
// lstm_cpu_inference.cpp): every tensor they read through raw pointers must be a contiguous CPU
// tensor of the call's dtype, or the op stops with a message naming it.
#pragma once

#include <ATen/ATen.h>

namespace lstmlab_cpu {

inline void check_cpu_contiguous(const char* op, const at::Tensor& tensor, const char* name, const at::Tensor& like) {
  TORCH_CHECK(tensor.device().is_cpu(), op, ": ", name, " must be a CPU tensor, got ", tensor.device());
  TORCH_CHECK(tensor.is_contiguous(), op, ": ", name, " must be contiguous");
  TORCH_CHECK(tensor.scalar_type() == like.scalar_type(), op, ": ", name, " has dtype ", tensor.scalar_type(),
              ", expected ", like.scalar_type());
}

}  // namespace lstmlab_cpu
