// A team of threads for the C++ loops (lstm_cpu_recurrence.cpp, lstm_cpu_inference.cpp,
// lstm_cpu_rollout.cpp), and the barrier where they meet between two steps.
//
// Why a barrier of our own: a loop that splits a step's hidden units between threads must wait, at
// every step, until all of h_t is written before any thread reads it for step t+1. OpenMP's
// `#pragma omp barrier` (GCC's libgomp) took 260–390 ns per meeting of two threads on this project's
// 2-core VM, this one 75–82 ns (scratch timing loops of 200,000 meetings, five runs, 2026-12-07, AMD EPYC
// VM; two threads each spinning on the other's flag took 25–55, but that only works for two). A step
// of the sine model's generation costs ~3 µs and meets three times, so OpenMP's barrier
// alone was a third of a two-thread step.
//
// The barrier (a "central counter" barrier, as in Mellor-Crummey & Scott 1991): each thread adds 1 to
// `arrived`; the last to arrive resets it and moves `round` on; the others wait until `round` moves.
// The atomics' acquire/release order is what makes the memory written before the barrier visible
// after it — the job `#pragma omp barrier`'s implied flush did. A waiting thread goes through three
// stages, as libgomp's does: it spins (a pause instruction per check: the fast case, a few µs at most);
// then it yields its core (std::this_thread::yield: when there are more threads than free cores — another
// process, a test runner's workers — the one it waits for may need that core to arrive at all); then,
// after about a millisecond, it sleeps on a condition variable, so a thread that waits long (a big
// GEMM per step, a share with nothing to do) does not keep a core busy. The last to arrive wakes the
// sleepers; it takes the lock only when there are any, so the fast case never touches it.
#pragma once

#include <ATen/ATen.h>
#include <omp.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
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

// Yields (each a system call, ~0.3–1 µs) before a waiting thread goes to sleep: about a millisecond.
constexpr int64_t YIELDS_BEFORE_SLEEP = int64_t(1) << 11;

class TeamBarrier {
 public:
  // Every thread of a team of `size` calls this; none returns until all have called it.
  void wait(int64_t size) {
    const int64_t my_round = round_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) == size - 1) {   // the last one in:
      arrived_.store(0, std::memory_order_relaxed);                       //   ready for the next round,
      round_.store(my_round + 1, std::memory_order_seq_cst);              //   then let everyone go
      if (sleepers_.load(std::memory_order_seq_cst) > 0) {                //   (and wake the sleepers)
        { std::lock_guard<std::mutex> lock(mutex_); }   // a sleeper is either not yet checking, or in wait()
        woken_.notify_all();
      }
      return;
    }
    for (int64_t spins = 0; spins < SPINS_BEFORE_YIELD; ++spins) {
      if (round_.load(std::memory_order_acquire) != my_round) return;
      spin_pause();
    }
    for (int64_t yields = 0; yields < YIELDS_BEFORE_SLEEP; ++yields) {
      if (round_.load(std::memory_order_acquire) != my_round) return;
      std::this_thread::yield();
    }
    // Sleep. sleepers_ goes up before round_ is checked, and the last thread stores round_ before it reads
    // sleepers_ (both sequentially consistent): so either it sees this sleeper and wakes it, or this
    // check sees the new round — a wake-up cannot be lost.
    std::unique_lock<std::mutex> lock(mutex_);
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    woken_.wait(lock, [&] { return round_.load(std::memory_order_seq_cst) != my_round; });
    sleepers_.fetch_sub(1, std::memory_order_relaxed);
  }

 private:
  alignas(64) std::atomic<int64_t> arrived_{0};   // each on a cache line of its own: the arrivals'
  alignas(64) std::atomic<int64_t> round_{0};     // writes do not disturb the spinners' reads
  alignas(64) std::atomic<int64_t> sleepers_{0};
  std::mutex mutex_;
  std::condition_variable woken_;
};

// The barrier of the team this thread is in, and the team's size; none (and 1) outside a team.
struct TeamSeat {
  TeamBarrier* barrier = nullptr;
  int64_t size = 1;
};
inline thread_local TeamSeat team_seat;

// Takes a seat for as long as it lives, then gives back the one before (on the inline path also when
// the body throws; inside the parallel region an exception cannot leave a thread: std::terminate).
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
