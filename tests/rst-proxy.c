/*
 * rst-proxy.c - a TCP proxy for one client at a time, for the fault tests:
 * it forwards bytes between the client and the server until it gets
 * SIGUSR1, then sends the client a protocol NoticeResponse and resets the
 * connection (SO_LINGER 0) right behind it.  The client's socket then
 * reports EPOLLERR with data still readable: what a connection reset by a
 * middlebox looks like.
 *
 *   rst-proxy LISTEN_PORT TARGET_PORT     (both on 127.0.0.1)
 *
 * It prints "ready" once it listens, and runs until killed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t reset_wanted;

static void usr1(int sig)
{
	(void)sig;
	reset_wanted = 1;
}

static int tcp_to(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("rst-proxy: connect");
		exit(1);
	}
	return fd;
}

/* Copy what is readable on from to to; false at EOF or error. */
static int pump(int from, int to)
{
	char buf[65536];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n <= 0)
		return 0;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));

		if (w < 0)
			return 0;
		off += w;
	}
	return 1;
}

/* A NoticeResponse ('N'), then a reset: the data arrives, then RST. */
static void notice_and_reset(int client)
{
	static const char fields[] = "SNOTICE\0VNOTICE\0C00000\0Mrst-proxy resets the connection\0";
	unsigned char msg[128];
	uint32_t len = (uint32_t)(4 + sizeof(fields)); /* fields + the final \0 */
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	msg[0] = 'N';
	msg[1] = (unsigned char)(len >> 24);
	msg[2] = (unsigned char)(len >> 16);
	msg[3] = (unsigned char)(len >> 8);
	msg[4] = (unsigned char)len;
	memcpy(msg + 5, fields, sizeof(fields)); /* sizeof includes the final \0 */
	if (write(client, msg, 1 + len) < 0)
		perror("rst-proxy: write");
	setsockopt(client, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(client);
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	int one = 1, lfd, client = -1, server = -1;

	if (argc != 3) {
		fprintf(stderr, "usage: rst-proxy LISTEN_PORT TARGET_PORT\n");
		return 64;
	}
	signal(SIGUSR1, usr1);
	signal(SIGPIPE, SIG_IGN);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_port = htons((uint16_t)atoi(argv[1]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 8) < 0) {
		perror("rst-proxy: listen");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		struct pollfd p[3] = {{.fd = lfd, .events = POLLIN},
		                      {.fd = client, .events = POLLIN},
		                      {.fd = server, .events = POLLIN}};

		if (reset_wanted && client >= 0) {
			reset_wanted = 0;
			notice_and_reset(client);
			close(server);
			client = server = -1;
			continue;
		}
		if (poll(p, 3, 50) < 0 && errno != EINTR)
			return 1;
		if ((p[0].revents & POLLIN) && client < 0) {
			client = accept(lfd, NULL, NULL);
			server = tcp_to(atoi(argv[2]));
			continue;
		}
		if (client >= 0 &&
		    ((p[1].revents & (POLLIN | POLLHUP | POLLERR) && !pump(client, server)) ||
		     (p[2].revents & (POLLIN | POLLHUP | POLLERR) && !pump(server, client)))) {
			close(client);
			close(server);
			client = server = -1;
		}
	}
}
