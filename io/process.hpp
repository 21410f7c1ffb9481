// Child programs (gnuplot, Graphviz's dot), started one way: fork and exec, with their input,
// output, exit status, time limit and lifetime in our hands (Note [Children die with us]).
// (Boost.Process 1.74 was considered: it lets a child inherit every descriptor we have open
// unless told otherwise, which would keep a pipe's write end alive in gnuplot and stall it, and it
// brings Boost.Filesystem into this layer for ~60 lines we own here. posix_spawn, used before,
// cannot ask the kernel to end the child with its parent.)
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace stepgrad {

// Note [Children die with us]
// A child must never outlive the program that started it, nor hang it. So each child
//   - runs in a process group of its own, which a time limit ends: a watchdog thread waits for
//     the child, and when the limit passes first it sends SIGKILL to the whole group (a script
//     standing in for gnuplot, and what it started). A parent blocked writing to a hung child
//     then sees EPIPE, and wait() returns;
//   - is killed by the kernel (SIGKILL, prctl PR_SET_PDEATHSIG) when the thread that started it
//     ends, so a parent killed by SIGKILL, which can run no code, leaves no gnuplot behind. The
//     ChildProcess waits for its child before it goes, so that thread always outlives the child
//     it meant to keep;
//   - is reaped only once the watchdog has stood down (waitid with WNOWAIT first), so the
//     watchdog can never signal a process id the system gave to someone else.
// Between fork and exec the child calls only async-signal-safe functions; the program is found
// on PATH before the fork, as execvp would, and a failed exec is reported through a pipe.

/// A started program; the destructor waits for it, so that no zombie outlives its owner.
class ChildProcess {
 public:
  /// Runs `program args...` (PATH is searched when `program` has no slash) with stdin from
  /// `in_fd` and stdout and stderr to `out_fd`, every signal at its default action (SIGPIPE
  /// included) except those we ignore. error() is the errno of a failed start (ENOENT: not
  /// found). With a `time_limit` above zero, the child's process group is killed (SIGKILL) when
  /// it runs longer (timed_out()). Note [Children die with us].
  ChildProcess(const std::string& program, const std::vector<std::string>& args, int in_fd,
               int out_fd, std::chrono::milliseconds time_limit = std::chrono::milliseconds(0));
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() { wait(); }

  int error() const { return error_; }

  /// The wait status (see waitpid), or -1 when the program did not start or its status is
  /// unknown (a caller that ignores SIGCHLD has children reaped unasked).
  int wait();

  /// True when the time limit ended the child (known once wait() returned).
  bool timed_out() const { return timed_out_; }

 private:
  void watch(std::chrono::milliseconds time_limit);

  pid_t pid_ = -1;
  int error_ = 0;
  int status_ = -1;
  std::mutex mutex_;
  std::condition_variable finished_;
  bool exited_ = false;     // guarded by mutex_: the child ended, the watchdog stands down
  bool timed_out_ = false;  // written by the watchdog, read after it joined
  std::thread watchdog_;
};

/// One line for a wait status: "exit 1", "killed by signal 9", "did not finish normally".
std::string describe_status(int status);

/// A time limit in the words of its messages: "2 s", "0.5 s".
std::string describe_limit(std::chrono::milliseconds limit);

/// Blocks SIGPIPE in this thread while it lives, so that writing to a child that quit fails
/// with EPIPE instead of killing us; a SIGPIPE raised meanwhile is taken off the pending set
/// before the old mask returns.
class SigpipeBlocked {
 public:
  SigpipeBlocked();
  SigpipeBlocked(const SigpipeBlocked&) = delete;
  SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;
  ~SigpipeBlocked();

 private:
  sigset_t pipe_;
  sigset_t old_mask_;
  bool was_pending_ = false;
};

}  // namespace stepgrad
