/* The handshake of the clients a test drives from outside (vgdb's
   monitor commands, dumps between load phases): at point n the client
   creates <dir>/at<n> and sleeps until the test creates <dir>/go<n>, so
   the test acts while the program is known to be stopped there. */
#ifndef WAIT_POINT_H
#define WAIT_POINT_H
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void wait_at(const char* dir, int n) {
  char path[4096];
  snprintf(path, sizeof path, "%s/at%d", dir, n);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) exit(2);
  close(fd);
  snprintf(path, sizeof path, "%s/go%d", dir, n);
  while (access(path, F_OK) != 0) usleep(10000);
}
#endif
