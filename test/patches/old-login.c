/*
 * TEST STAND-IN, not part of roroot: copies the fatal tty handling of
 * shadow's login before 4.0.12 -- chown and chmod of the login tty, and
 * refusal if either fails. Used to show the EROFS shim at work.
 *   old-login [path|fd]   path: chown()/chmod() of ttyname(0); fd: fchown()/fchmod(0)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "path";
	const char *tty = ttyname(0);
	const char *preload = getenv("LD_PRELOAD");
	if (!tty) {
		perror("ttyname");
		return 2;
	}
	if (strcmp(how, "fd") == 0 ? fchown(0, getuid(), getgid()) : chown(tty, getuid(), getgid())) {
		perror("login: chown of the tty");
		return 1;
	}
	if (strcmp(how, "fd") == 0 ? fchmod(0, 0620) : chmod(tty, 0620)) {
		perror("login: chmod of the tty");
		return 1;
	}
	printf("LOGIN-OK LD_PRELOAD=%s\n", preload ? preload : "(unset)");
	return 0;
}
