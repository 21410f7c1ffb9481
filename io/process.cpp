// fork, exec and waitid; the watchdog of a time limit; SIGPIPE held off while we write to a child.
#include <stepgrad/io/process.hpp>

#include <fcntl.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>

#include <fmt/format.h>

extern char** environ;  // POSIX: the environment a child inherits

namespace stepgrad {

namespace {

/// Where execvp would find `program`: itself when it has a slash, else the first executable
/// regular file of that name in $PATH's folders ("" and `err` set when there is none).
std::string find_program(const std::string& program, int& err) {
  err = 0;
  if (program.find('/') != std::string::npos) return program;
  err = ENOENT;
  if (program.empty()) return "";
  const char* path = std::getenv("PATH");
  const std::string dirs = path != nullptr ? path : "/bin:/usr/bin";
  std::size_t begin = 0;
  while (begin <= dirs.size()) {
    std::size_t end = dirs.find(':', begin);
    if (end == std::string::npos) end = dirs.size();
    const std::string dir = dirs.substr(begin, end - begin);
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      if (::access(candidate.c_str(), X_OK) == 0) {
        err = 0;
        return candidate;
      }
      err = EACCES;  // as execvp: found, but not ours to run, unless a later folder has one
    }
    begin = end + 1;
  }
  return "";
}

/// Makes `fd` the child's descriptor `target` (async-signal-safe; in the child only).
bool give(int fd, int target) {
  if (fd == target) return ::fcntl(fd, F_SETFD, 0) == 0;  // keep it across exec
  return ::dup2(fd, target) == target;
}

}  // namespace

ChildProcess::ChildProcess(const std::string& program, const std::vector<std::string>& args,
                           int in_fd, int out_fd, std::chrono::milliseconds time_limit) {
  std::vector<std::string> words = {program};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  const std::string path = find_program(program, error_);
  if (error_ != 0) return;

  std::array<int, 2> report{};  // the child writes exec's errno here if exec fails
  if (::pipe2(report.data(), O_CLOEXEC) != 0) {
    error_ = errno;
    return;
  }
  // No signal handler of ours may run in the child (it would remove our temporary files, Note
  // [Interrupted saves]): every signal is held until the child has reset them to the default.
  sigset_t all;
  sigset_t old_mask;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old_mask);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {  // the child: async-signal-safe calls only, until exec
    ::close(report[0]);
    for (int s = 1; s < NSIG; ++s) {
      struct sigaction action {};
      if (::sigaction(s, nullptr, &action) != 0) continue;
      if (action.sa_handler == SIG_IGN && s != SIGPIPE) continue;  // ignored stays ignored
      action.sa_handler = SIG_DFL;
      action.sa_flags = 0;
      sigemptyset(&action.sa_mask);
      ::sigaction(s, &action, nullptr);
    }
    ::setpgid(0, 0);                     // a group of its own, for the time limit
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // dies with the thread that started it
    int err = 0;
    if (::getppid() != parent) {
      err = ESRCH;  // the parent died before prctl: nobody will read the output
    } else if (!give(in_fd, STDIN_FILENO) || !give(out_fd, STDOUT_FILENO) ||
               !give(out_fd, STDERR_FILENO)) {
      err = errno;
    } else {
      pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
      ::execve(path.c_str(), argv.data(), environ);
      err = errno;
    }
    while (::write(report[1], &err, sizeof err) < 0 && errno == EINTR) {
    }
    ::_exit(127);
  }
  const int fork_error = errno;
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ::close(report[1]);
  if (pid < 0) {
    ::close(report[0]);
    error_ = fork_error;
    return;
  }
  int err = 0;
  ssize_t n = 0;
  while ((n = ::read(report[0], &err, sizeof err)) < 0 && errno == EINTR) {
  }
  ::close(report[0]);
  if (n == static_cast<ssize_t>(sizeof err)) {  // exec failed: the child is gone, reap it
    error_ = err != 0 ? err : ENOEXEC;
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    return;
  }
  pid_ = pid;
  if (time_limit.count() > 0) {
    try {
      watchdog_ = std::thread(&ChildProcess::watch, this, time_limit);
    } catch (...) {  // no thread to keep the limit: the child does not run without one
      ::kill(-pid_, SIGKILL);
      wait();
      throw;
    }
  }
}

void ChildProcess::watch(std::chrono::milliseconds time_limit) {
  std::unique_lock lock(mutex_);
  if (finished_.wait_for(lock, time_limit, [this] { return exited_; })) return;
  timed_out_ = true;
  ::kill(-pid_, SIGKILL);  // the whole group: a script and what it started
}

int ChildProcess::wait() {
  if (pid_ < 0) return status_;
  // Wait without reaping: until the watchdog stood down, the process id stays ours to signal.
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
  }
  {
    const std::lock_guard lock(mutex_);
    exited_ = true;
  }
  finished_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) {
      pid_ = -1;
      return status_;
    }
  }
  pid_ = -1;
  status_ = status;
  return status_;
}

std::string describe_status(int status) {
  if (status < 0) return "status unknown";
  if (WIFEXITED(status)) return fmt::format("exit {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("killed by signal {}", WTERMSIG(status));
  return "did not finish normally";
}

std::string describe_limit(std::chrono::milliseconds limit) {
  if (limit.count() % 1000 == 0) return fmt::format("{} s", limit.count() / 1000);
  return fmt::format("{:g} s", static_cast<double>(limit.count()) / 1000.0);
}

SigpipeBlocked::SigpipeBlocked() {
  sigemptyset(&pipe_);
  sigaddset(&pipe_, SIGPIPE);
  sigset_t pending;
  sigpending(&pending);
  was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  pthread_sigmask(SIG_BLOCK, &pipe_, &old_mask_);
}

SigpipeBlocked::~SigpipeBlocked() {
  // A SIGPIPE that was pending before is not ours to take.
  sigset_t pending;
  sigpending(&pending);
  if (!was_pending_ && sigismember(&pending, SIGPIPE) == 1) {
    const timespec no_wait{};
    while (sigtimedwait(&pipe_, nullptr, &no_wait) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

}  // namespace stepgrad
