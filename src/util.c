/* util.c — small file and naming helpers for the driver. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session.h"

char *util_c_identifier(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t n = strlen(base);
  const char *dot = strrchr(base, '.');
  if (dot && dot != base) n = (size_t)(dot - base);
  char *s = malloc(n + 2);
  if (!s) return NULL;
  size_t k = 0;
  if (n == 0 || (base[0] >= '0' && base[0] <= '9')) s[k++] = '_';
  for (size_t i = 0; i < n; i++) {
    char c = base[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_';
    s[k++] = ok ? c : '_';
  }
  s[k] = 0;
  return s;
}

bool util_read_file(const char *path, char **data, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    diag_error("cannot open '%s': %s", path, strerror(errno));
    return false;
  }
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
    n += got;
    if (n == cap) {
      char *nb = realloc(buf, cap *= 2);
      if (!nb) free(buf);
      buf = nb;
    }
  }
  bool ok = buf && !ferror(f);
  fclose(f);
  if (!ok) {
    free(buf);
    diag_error("cannot read '%s'", path);
    return false;
  }
  *data = buf;
  *size = n;
  return true;
}

char *util_dirname(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash) return strdup(".");
  if (slash == path) return strdup("/");
  return strndup(path, (size_t)(slash - path));
}

char *util_join(const char *dir, const char *name) {
  size_t a = strlen(dir), b = strlen(name);
  char *s = malloc(a + b + 2);
  if (!s) return NULL;
  memcpy(s, dir, a);
  size_t k = a;
  if (a && dir[a - 1] != '/') s[k++] = '/';
  memcpy(s + k, name, b + 1);
  return s;
}

bool util_mkdir_p(const char *dir) {
  char *p = strdup(dir);
  if (!p) return false;
  for (char *s = p + 1; *s; s++) {
    if (*s != '/') continue;
    *s = 0;
    mkdir(p, 0777);
    *s = '/';
  }
  bool ok = mkdir(p, 0777) == 0 || errno == EEXIST;
  if (!ok) diag_error("cannot create directory '%s': %s", dir, strerror(errno));
  free(p);
  return ok;
}

char *util_write_temp(const char *path, const void *data, size_t size) {
  size_t n = strlen(path);
  char *tmp = malloc(n + 16);
  if (!tmp) return NULL;
  memcpy(tmp, path, n);
  memcpy(tmp + n, ".tmp.XXXXXX", 12);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    diag_error("cannot write '%s': %s", path, strerror(errno));
    free(tmp);
    return NULL;
  }
  const char *p = data;
  size_t left = size;
  while (left > 0) {
    ssize_t w = write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    p += w;
    left -= (size_t)w;
  }
  bool ok = left == 0 && fchmod(fd, 0644) == 0;
  int err = errno;
  ok = (close(fd) == 0) && ok;
  if (!ok) {
    diag_error("cannot write '%s': %s", path, strerror(left ? err : errno));
    unlink(tmp);
    free(tmp);
    return NULL;
  }
  return tmp;
}

bool util_commit_temp(char *tmp, const char *path) {
  bool ok = rename(tmp, path) == 0;
  if (!ok) {
    diag_error("cannot write '%s': %s", path, strerror(errno));
    unlink(tmp);
  }
  free(tmp);
  return ok;
}

void util_discard_temp(char *tmp) {
  if (!tmp) return;
  unlink(tmp);
  free(tmp);
}

bool util_write_file_atomic(const char *path, const void *data, size_t size) {
  char *tmp = util_write_temp(path, data, size);
  return tmp && util_commit_temp(tmp, path);
}
