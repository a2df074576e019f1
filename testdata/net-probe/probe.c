/*
 * A probe the network tests compile with `gcc -static` and copy into their image: what a RUN
 * step can reach that busybox's applets cannot show.
 *
 *   probe abstract NAME        connect to the abstract unix socket NAME; prints "connected"
 *                              or "refused: <error>"
 *   probe packet MARKER MS     capture every frame on every interface (AF_PACKET, ETH_P_ALL)
 *                              for MS milliseconds, after sending itself one UDP datagram on
 *                              its own loopback; prints "self N marked M": N frames carried
 *                              its own datagram (the capture works), M carried MARKER
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int abstract(const char *name) {
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  if (s < 0) {
    printf("socket: %s\n", strerror(errno));
    return 1;
  }
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  size_t len = strlen(name);
  if (len + 1 > sizeof addr.sun_path) return 2;
  memcpy(addr.sun_path + 1, name, len); /* sun_path[0] == 0: the abstract namespace */
  /* The name as given, then padded with NULs to the whole sun_path, as Node's (libuv's)
   * servers bind it: an abstract name's length is part of the name. */
  socklen_t lengths[] = {(socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len), (socklen_t)sizeof addr};
  for (size_t i = 0; i < 2; i++) {
    if (connect(s, (struct sockaddr *)&addr, lengths[i]) == 0) {
      printf("connected\n");
      return 0;
    }
  }
  printf("refused: %s\n", strerror(errno));
  return 0;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int packet(const char *marker, long ms) {
  int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  if (s < 0) {
    printf("socket: %s\n", strerror(errno));
    return 1;
  }
  struct timeval tv = {.tv_sec = 0, .tv_usec = 50000};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  static const char self[] = "tsbuild-probe-self";
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (u < 0 || sendto(u, self, sizeof self - 1, 0, (struct sockaddr *)&to, sizeof to) < 0) {
    printf("sendto: %s\n", strerror(errno));
    return 1;
  }

  long selfs = 0, marked = 0;
  char frame[65536];
  for (long long end = now_ms() + ms; now_ms() < end;) {
    ssize_t n = recv(s, frame, sizeof frame, 0);
    if (n <= 0) continue;
    if (memmem(frame, (size_t)n, self, sizeof self - 1) != NULL) selfs++;
    if (memmem(frame, (size_t)n, marker, strlen(marker)) != NULL) marked++;
  }
  printf("self %ld marked %ld\n", selfs, marked);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "abstract") == 0) return abstract(argv[2]);
  if (argc == 4 && strcmp(argv[1], "packet") == 0) return packet(argv[2], atol(argv[3]));
  fprintf(stderr, "usage: probe abstract NAME | probe packet MARKER MS\n");
  return 2;
}
