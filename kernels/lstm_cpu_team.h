// A team of threads for the C++ loops (lstm_cpu_recurrence.cpp, lstm_cpu_inference.cpp,
// lstm_cpu_rollout.cpp), and the barrier where they meet between two steps.
//
// Why a barrier of our own: a loop that splits a step's hidden units between threads must wait, at
// every step, until all of h_t is written before any thread reads it for step t+1. OpenMP's
// `#pragma omp barrier` (GCC's libgomp) took 270–360 ns per meeting on this project's 2-core VMs; two
// threads that each publish a counter and spin on the other's took 25–55 ns (a scratch timing loop of
// 200,000 meetings, 2026-12-07, AMD EPYC VM). A step of the sine model's generation costs ~3 µs and
// meets three times, so the barrier alone was a third of a two-thread step.
//
// The barrier (a "central counter" barrier, as in Mellor-Crummey & Scott 1991): each thread adds 1 to
// `arrived`; the last to arrive resets it and moves `round` on; the others spin until `round` moves.
// The atomics' acquire/release order is what makes the memory written before the barrier visible
// after it — the job `#pragma omp barrier`'s implied flush did. A thread that has spun a while yields
// its core instead (std::this_thread::yield): when there are more threads than free cores (another
// process, a test runner's workers), the one it waits for may need that core to arrive at all.
#pragma once

#include <ATen/ATen.h>
#include <omp.h>

#include <atomic>
#include <cstdint>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace lstmlab_cpu {

// Spins (a pause instruction each, ~10–150 cycles depending on the CPU: a few µs in all) before a waiting
// thread starts yielding its core. Longer spins cost dearly when threads outnumber cores: a layer of
// T = 100, B = 64, H = 128 on 4 threads on the 2-core VM ran its forward in 21 ms with 4096 spins,
// 11.4 ms with 256 (OpenMP's barrier: 11.5 ms; 2 threads: 8.2 ms).
constexpr int64_t SPINS_BEFORE_YIELD = int64_t(1) << 8;

inline void spin_pause() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();                          // tells the core it is a spin loop: less power, no pipeline flush on exit
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

class TeamBarrier {
 public:
  // Every thread of a team of `size` calls this; none returns until all have called it.
  void wait(int64_t size) {
    const int64_t my_round = round_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) == size - 1) {   // the last one in:
      arrived_.store(0, std::memory_order_relaxed);                       //   ready for the next round,
      round_.store(my_round + 1, std::memory_order_release);              //   then let everyone go
      return;
    }
    for (int64_t spins = 0; round_.load(std::memory_order_acquire) == my_round; ++spins) {
      if (spins < SPINS_BEFORE_YIELD) {
        spin_pause();
      } else {
        std::this_thread::yield();
      }
    }
  }

 private:
  alignas(64) std::atomic<int64_t> arrived_{0};   // each on a cache line of its own: the arrivals'
  alignas(64) std::atomic<int64_t> round_{0};     // writes do not disturb the spinners' reads
};

// The barrier of the team this thread is in, and the team's size; none (and 1) outside a team.
struct TeamSeat {
  TeamBarrier* barrier = nullptr;
  int64_t size = 1;
};
inline thread_local TeamSeat team_seat;

// Takes a seat for as long as it lives, then gives back the one before (also when the body throws).
struct SeatFor {
  explicit SeatFor(TeamSeat seat) : outer(team_seat) { team_seat = seat; }
  ~SeatFor() { team_seat = outer; }
  TeamSeat outer;
};

// Every thread of the current team waits here until all have arrived (nothing to wait for alone).
inline void wait_for_all_threads() {
  if (team_seat.barrier != nullptr && team_seat.size > 1) team_seat.barrier->wait(team_seat.size);
}

// body(thread, team) on up to `threads` OpenMP threads (inline on this one when 1, or when already
// inside a parallel region). OpenMP may grant fewer threads than asked (OMP_THREAD_LIMIT, OMP_DYNAMIC,
// nested regions): `team` is the number actually granted, and the work must be split by it.
template <typename Body>
void run_team(int64_t threads, const Body& body) {
  if (threads <= 1 || omp_in_parallel()) {
    const SeatFor alone(TeamSeat{});                          // a team of one meets nobody
    body(0, 1);
    return;
  }
  TeamBarrier barrier;
#pragma omp parallel num_threads(threads)
  {
    at::AutoDispatchBelowADInplaceOrView below_autograd;      // thread-local: set on every thread
    const SeatFor member(TeamSeat{&barrier, omp_get_num_threads()});
    body(omp_get_thread_num(), omp_get_num_threads());
  }
}

}  // namespace lstmlab_cpu
