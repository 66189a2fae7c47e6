/*
 * ringo/fs.h - files for goroutines (the parts of Go's os.File that do
 * I/O at an offset).
 *
 * Calls read like blocking POSIX calls. How they wait depends on the
 * netpoller: with io_uring the request runs in the ring and only the
 * calling goroutine waits (no thread blocks); with epoll (regular files
 * cannot be polled) the call is a system call on the goroutine's thread,
 * announced as Go announces one, so that sysmon hands the thread's P to
 * another thread if it blocks (ringo_syscall_enter in ringo/sched.h):
 * the other goroutines go on, at the cost of a thread per blocked call.
 *
 * Errors: every function returns 0 or a count on success and a negative
 * errno value on failure (no -1/errno form). A file closed by another
 * goroutine while a call is in progress: that call finishes first, close
 * waits for it; a call that starts while the close is in progress fails
 * with -ECANCELED. -EBADF on a handle already closed (handles carry a
 * sequence number, so a closed one never reaches a file opened later).
 * -EMFILE or -ENFILE when out of file descriptors.
 *
 * Must be called from a goroutine (inside ringo_run), and not between
 * ringo_syscall_enter and ringo_syscall_exit: a call from any other
 * thread or from such a section aborts with a message naming the call,
 * as does a handle of another type cast to a ringo_file. Files still
 * open when ringo_run returns are closed by it.
 */
#ifndef RINGO_FS_H
#define RINGO_FS_H

#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ringo_file ringo_file;

/* open(2): flags and mode as its own (O_RDONLY, O_WRONLY | O_CREAT |
 * O_TRUNC, ...); O_CLOEXEC is always added. */
int ringo_file_open(const char *path, int flags, mode_t mode,
		    ringo_file **out);

/* Read len bytes at offset off (Go's ReadAt; -EINVAL if off < 0, -ESPIPE
 * for a file without offsets, a FIFO or a terminal, as pread(2)):
 * returns len, or fewer if the file ends or an error comes first (0 at
 * or past the end; the next call, for the rest, returns the error if it
 * persists), or -errno if nothing was read. Does not move any file
 * position; calls may run concurrently. */
ssize_t ringo_file_read_at(ringo_file *f, void *buf, size_t len, int64_t off);

/* Write all len bytes at offset off (Go's WriteAt; -EINVAL and -ESPIPE
 * as for read_at): returns len; or, if an error stops it after some
 * bytes were written, their count (the next call, for the rest, returns
 * the error if it persists, as ENOSPC does); or -errno if nothing was
 * written. */
ssize_t ringo_file_write_at(ringo_file *f, const void *buf, size_t len,
			    int64_t off);

/* fsync(2): data and metadata reach the disk. */
int ringo_file_sync(ringo_file *f);
/* fdatasync(2): data (and the metadata needed to read it back). */
int ringo_file_datasync(ringo_file *f);

/* fstat(2) of an open file. */
int ringo_file_stat(ringo_file *f, struct stat *st);

/* stat(2) of a path (follows symbolic links). */
int ringo_fs_stat(const char *path, struct stat *st);

/* Close and free f; waits for calls in progress on f. Returns close(2)'s
 * result (-EBADF for a second close). */
int ringo_file_close(ringo_file *f);

/* The descriptor (-EBADF if closed; do not close it directly). */
int ringo_file_fd(ringo_file *f);

#ifdef __cplusplus
}
#endif
#endif
