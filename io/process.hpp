// Child programs (gnuplot, Graphviz's dot), started one way: posix_spawn, with their input,
// output and exit status in our hands. (Boost.Process 1.74 was considered: it lets a child inherit
// every descriptor we have open unless told otherwise, which would keep a pipe's write end alive in
// gnuplot and stall it, and it brings Boost.Filesystem into this layer for ~60 lines we own here.)
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <string>
#include <vector>

namespace stepgrad {

/// A started program; the destructor waits for it, so that no zombie outlives its owner.
class ChildProcess {
 public:
  /// Runs `program args...` (PATH is searched when `program` has no slash) with stdin from
  /// `in_fd` and stdout and stderr to `out_fd`, and SIGPIPE at its default action whatever ours
  /// is. error() is the errno of a failed start (ENOENT: not found).
  ChildProcess(const std::string& program, const std::vector<std::string>& args, int in_fd,
               int out_fd);
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() { wait(); }

  int error() const { return error_; }

  /// The wait status (see waitpid), or -1 when the program did not start or its status is
  /// unknown (a caller that ignores SIGCHLD has children reaped unasked).
  int wait();

 private:
  pid_t pid_ = -1;
  int error_ = 0;
  int status_ = -1;
};

/// One line for a wait status: "exit 1", "killed by signal 9", "did not finish normally".
std::string describe_status(int status);

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
