/*
 * login-erofs-shim.so: LD_PRELOAD for a login that treats a failed chown or
 * chmod of its terminal as fatal (shadow's login before 4.0.12 did).
 *
 * On a router whose /dev nodes live on the read-only root (static /dev),
 * chown/chmod of the login tty fail with EROFS, and such a login refuses
 * everyone. The 1997 design shipped a patched /bin/login that shrugged off
 * EROFS there; this does the same from outside, for exactly that case:
 *
 *   a failed chown/chmod/fchown/fchmod/fchownat/fchmodat reports success
 *   ONLY when the error is EROFS, the target is a character device that is
 *   a tty, the tty (whose mode the failed call left as it was) is not
 *   readable by group or others, and for a chown the tty is owned already
 *   by the user it was to be given to, or by root -- the rules OpenSSH's
 *   pty_setowner applies to the same situation. A tty still owned by
 *   another user stays that user's: login must fail. Every other failure
 *   passes through untouched.
 *
 * LD_PRELOAD is removed from the environment at load, so the user's session
 * does not inherit the shim.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

__attribute__((constructor)) static void forget_preload(void)
{
	unsetenv("LD_PRELOAD");
}

/* ANY_OWNER: a chmod, which does not care who owns the tty. */
#define ANY_OWNER ((uid_t)-2)

/* A private tty: a character device, a terminal, no group/other read; for
 * a chown to `uid`, owned by that user or by root already (uid -1: the
 * owner is not being changed). */
static int private_tty_fd(int fd, uid_t uid)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode))
		return 0;
	if (st.st_mode & (S_IRGRP | S_IROTH))
		return 0;
	if (uid != ANY_OWNER && uid != (uid_t)-1 && st.st_uid != uid && st.st_uid != 0)
		return 0;
	return isatty(fd);
}

static int private_tty_at(int dirfd, const char *path, int flags, uid_t uid)
{
	int fd, ok;
	if ((flags & AT_EMPTY_PATH) && path && !*path)
		return private_tty_fd(dirfd, uid);
	/* O_NOCTTY: looking must not make it our controlling terminal. */
	fd = openat(dirfd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC |
		    ((flags & AT_SYMLINK_NOFOLLOW) ? O_NOFOLLOW : 0));
	if (fd < 0)
		return 0;
	ok = private_tty_fd(fd, uid);
	close(fd);
	return ok;
}

/* A call that failed with EROFS: success on a private tty, else the same
 * failure (errno restored: the tty check may have changed it). */
static int tolerate(int result, int is_private_tty)
{
	if (is_private_tty)
		return 0;
	errno = EROFS;
	return result;
}

#define REAL(name) \
	static __typeof__(name) *real; \
	if (!real) \
		real = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

int chown(const char *path, uid_t uid, gid_t gid)
{
	REAL(chown);
	int r = real(path, uid, gid);
	return r < 0 && errno == EROFS ? tolerate(r, private_tty_at(AT_FDCWD, path, 0, uid)) : r;
}

int chmod(const char *path, mode_t mode)
{
	REAL(chmod);
	int r = real(path, mode);
	return r < 0 && errno == EROFS ? tolerate(r, private_tty_at(AT_FDCWD, path, 0, ANY_OWNER)) : r;
}

int fchown(int fd, uid_t uid, gid_t gid)
{
	REAL(fchown);
	int r = real(fd, uid, gid);
	return r < 0 && errno == EROFS ? tolerate(r, private_tty_fd(fd, uid)) : r;
}

int fchmod(int fd, mode_t mode)
{
	REAL(fchmod);
	int r = real(fd, mode);
	return r < 0 && errno == EROFS ? tolerate(r, private_tty_fd(fd, ANY_OWNER)) : r;
}

int fchownat(int dirfd, const char *path, uid_t uid, gid_t gid, int flags)
{
	REAL(fchownat);
	int r = real(dirfd, path, uid, gid, flags);
	return r < 0 && errno == EROFS ? tolerate(r, private_tty_at(dirfd, path, flags, uid)) : r;
}

int fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
	REAL(fchmodat);
	int r = real(dirfd, path, mode, flags);
	return r < 0 && errno == EROFS ? tolerate(r, private_tty_at(dirfd, path, flags, ANY_OWNER)) : r;
}
