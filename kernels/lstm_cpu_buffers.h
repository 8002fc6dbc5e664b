// Big per-call buffers of backend "bptt"'s C++ loops, on huge pages.
//
// Training allocates a few (T, B, 4H) tensors at every call — the gates forward keeps for backward,
// the gate gradients backward makes — 52 MB at T=200, B=32, H=512. glibc hands out anything above
// 32 MB as a fresh mapping and returns it on free, so every call touches every 4-KiB page anew: one
// page fault each, and in this machine's VM ~2.5 µs per page (33 ms to fill 52 MB, as long as 50 of
// the layer's 200 forward steps). On 2-MiB pages the kernel faults 512× less often (8 ms). oneDNN's
// LSTM allocates its workspace the same way and pays the same; torch's THP_MEM_ALLOC_ENABLE=1 does
// this for every tensor in a process — here it is done for these buffers only.
#pragma once

#include <ATen/ATen.h>
#include <c10/util/accumulate.h>
#include <sys/mman.h>

#include <cstdlib>

namespace lstmlab_cpu {

constexpr size_t HUGE_PAGE_BYTES = size_t(2) << 20;
constexpr size_t HUGE_PAGES_FROM_BYTES = size_t(8) << 20;   // smaller buffers come from malloc's reused memory

// at::empty(sizes, options), on huge pages when big (where the kernel has transparent huge pages on
// "madvise" or "always"; elsewhere plain pages, as at::empty would give). Only for tensors that stay
// inside the backend: the storage cannot be resized.
inline at::Tensor empty_on_huge_pages(at::IntArrayRef sizes, const at::TensorOptions& options) {
  const size_t bytes = c10::multiply_integers(sizes) * options.dtype().itemsize();
  if (bytes < HUGE_PAGES_FROM_BYTES) return at::empty(sizes, options);
  const size_t rounded = (bytes + HUGE_PAGE_BYTES - 1) / HUGE_PAGE_BYTES * HUGE_PAGE_BYTES;
  void* data = std::aligned_alloc(HUGE_PAGE_BYTES, rounded);   // aligned: whole huge pages, none split
  if (data == nullptr) return at::empty(sizes, options);       // (let torch's allocator report the failure)
  madvise(data, rounded, MADV_HUGEPAGE);                       // a hint: refused, the pages stay 4 KiB
  return at::from_blob(data, sizes, [](void* pointer) { std::free(pointer); }, options);
}

}  // namespace lstmlab_cpu
