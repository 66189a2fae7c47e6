/*
 * io/fs.c - the public file API (ringo/fs.h) over poll descriptors and
 * the netpoller's file ops.
 *
 * A ringo_file is its poll descriptor's tag (kind RINGO__PD_FILE; see
 * io/pd.h for why handles are tags, not pointers): ops take
 * only a reference, so reads and writes at offsets run concurrently and
 * close waits for those in progress. In epoll mode the ops block the M
 * (see io/netpoll_epoll.c); in io_uring mode they go through the ring.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <ringo/fs.h>

#include "netpoll.h"
#include "pd.h"

#define RW_MAX ((size_t)1 << 30)

/* A public call on a file (io/pd.h). */
#define FILE_CALL(name) (&(const struct ringo__pd_call){ name, RINGO__PD_KINDS_FILE })

int ringo_file_open(const char *path, int flags, mode_t mode,
		    ringo_file **out)
{
	/* The open may park: a goroutine with a P only (as for ops). */
	ringo__must_m("ringo_file_open");
	int fd = ringo__netpoll->openat(AT_FDCWD, path, flags | O_CLOEXEC,
					mode);
	if (fd < 0)
		return fd;
	struct ringo__pd *pd;
	int err = ringo__pd_open(fd, RINGO__PD_FILE, 0, &pd);
	if (err) {
		close(fd);
		return err;
	}
	*out = ringo__pd_handle(pd);
	return 0;
}

/* Loop pread/pwrite until len bytes (or end of file for reads). An
 * error after some bytes moved returns their count, as io/net.c's xfer
 * does; the error comes back from the next call. */
static ssize_t at(const char *name, ringo_file *f, bool write, void *buf,
		  size_t len, int64_t off)
{
	struct ringo__pd *pd;
	ssize_t err = ringo__pd_acquire(FILE_CALL(name), f, RINGO__PD_REF, &pd);

	if (err)
		return err;
	if (off < 0) {
		ringo__pd_release(pd, RINGO__PD_REF);
		return -EINVAL;
	}
	size_t done = 0;
	while (done < len) {
		size_t chunk = len - done < RW_MAX ? len - done : RW_MAX;
		char *p = (char *)buf + done;
		int64_t o = off + (int64_t)done;
		ssize_t n = write ? ringo__netpoll->pwrite(pd, p, chunk, o)
				  : ringo__netpoll->pread(pd, p, chunk, o);
		if (n < 0) {
			err = n;
			break;
		}
		if (n == 0)
			break; /* end of file (a write of 0: give up too) */
		done += (size_t)n;
	}
	ringo__pd_release(pd, RINGO__PD_REF);
	if (!err && write && !done && len)
		err = -EIO; /* pwrite moved nothing and said nothing */
	return err && !done ? err : (ssize_t)done;
}

ssize_t ringo_file_read_at(ringo_file *f, void *buf, size_t len, int64_t off)
{
	return at("ringo_file_read_at", f, false, buf, len, off);
}

ssize_t ringo_file_write_at(ringo_file *f, const void *buf, size_t len,
			    int64_t off)
{
	return at("ringo_file_write_at", f, true, (void *)buf, len, off);
}

static int sync_(const char *name, ringo_file *f, bool datasync)
{
	struct ringo__pd *pd;
	int err = ringo__pd_acquire(FILE_CALL(name), f, RINGO__PD_REF, &pd);

	if (err)
		return err;
	err = ringo__netpoll->fsync(pd, datasync);
	ringo__pd_release(pd, RINGO__PD_REF);
	return err;
}

int ringo_file_sync(ringo_file *f)
{
	return sync_("ringo_file_sync", f, false);
}

int ringo_file_datasync(ringo_file *f)
{
	return sync_("ringo_file_datasync", f, true);
}

static void from_statx(const struct statx *x, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = makedev(x->stx_dev_major, x->stx_dev_minor);
	st->st_ino = x->stx_ino;
	st->st_mode = x->stx_mode;
	st->st_nlink = x->stx_nlink;
	st->st_uid = x->stx_uid;
	st->st_gid = x->stx_gid;
	st->st_rdev = makedev(x->stx_rdev_major, x->stx_rdev_minor);
	st->st_size = (off_t)x->stx_size;
	st->st_blksize = (blksize_t)x->stx_blksize;
	st->st_blocks = (blkcnt_t)x->stx_blocks;
	st->st_atim.tv_sec = x->stx_atime.tv_sec;
	st->st_atim.tv_nsec = x->stx_atime.tv_nsec;
	st->st_mtim.tv_sec = x->stx_mtime.tv_sec;
	st->st_mtim.tv_nsec = x->stx_mtime.tv_nsec;
	st->st_ctim.tv_sec = x->stx_ctime.tv_sec;
	st->st_ctim.tv_nsec = x->stx_ctime.tv_nsec;
}

int ringo_file_stat(ringo_file *f, struct stat *st)
{
	struct ringo__pd *pd;
	struct statx x;
	int err = ringo__pd_acquire(FILE_CALL("ringo_file_stat"), f,
				    RINGO__PD_REF, &pd);

	if (err)
		return err;
	err = ringo__netpoll->statx(pd->fd, "", AT_EMPTY_PATH,
				    STATX_BASIC_STATS, &x);
	ringo__pd_release(pd, RINGO__PD_REF);
	if (!err)
		from_statx(&x, st);
	return err;
}

int ringo_fs_stat(const char *path, struct stat *st)
{
	struct statx x;

	ringo__must_m("ringo_fs_stat");
	int err = ringo__netpoll->statx(AT_FDCWD, path, 0, STATX_BASIC_STATS,
					&x);
	if (!err)
		from_statx(&x, st);
	return err;
}

int ringo_file_close(ringo_file *f)
{
	return ringo__pd_close(FILE_CALL("ringo_file_close"), f);
}

int ringo_file_fd(ringo_file *f)
{
	return ringo__pd_fd(FILE_CALL("ringo_file_fd"), f);
}
