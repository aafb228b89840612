/* util.c — small file and naming helpers for the driver. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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

/* Only regular files, opened without waiting (a FIFO would block the open
 * and /dev/zero never ends), and at most UTIL_MAX_READ bytes. */
#define UTIL_MAX_READ (1u << 30)

bool util_read_file(const char *path, char **data, size_t *size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    diag_error("cannot open '%s': %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    return false;
  }
  if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > UTIL_MAX_READ) {
    if (S_ISREG(st.st_mode))
      diag_error("cannot read '%s': it is %lld bytes, more than tcc reads (%u)", path,
                 (long long)st.st_size, UTIL_MAX_READ);
    else
      diag_error("cannot open '%s': not a regular file", path);
    close(fd);
    return false;
  }
  size_t n = 0, cap = (size_t)st.st_size + 1; /* + 1 sees a file that grew */
  char *buf = malloc(cap);
  for (ssize_t got; buf && n < cap && (got = read(fd, buf + n, cap - n)) != 0;) {
    if (got < 0) {
      if (errno == EINTR) continue;
      free(buf);
      buf = NULL;
      break;
    }
    n += (size_t)got;
  }
  bool ok = buf && n < cap;
  close(fd);
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

bool util_make_dirs(const char *dir) {
  char *p = strdup(dir);
  if (!p) return false;
  for (char *s = p + 1; *s; s++) {
    if (*s != '/') continue;
    *s = 0;
    mkdir(p, 0777);
    *s = '/';
  }
  bool ok = mkdir(p, 0777) == 0 || errno == EEXIST;
  int err = errno;
  free(p);
  errno = err;
  return ok;
}

bool util_mkdir_p(const char *dir) {
  if (util_make_dirs(dir)) return true;
  diag_error("cannot create directory '%s': %s", dir, strerror(errno));
  return false;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

bool util_remove_tree(const char *dir) {
  /* depth first (children before their folder), not following links */
  return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 || errno == ENOENT;
}

char *util_write_temp_with(const char *path, bool (*write)(FILE *f, void *user), void *user) {
  size_t n = strlen(path);
  char *tmp = malloc(n + 16);
  if (!tmp) return NULL;
  memcpy(tmp, path, n);
  memcpy(tmp + n, ".tmp.XXXXXX", 12);
  int fd = mkstemp(tmp);
  FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
  if (!f) {
    diag_error("cannot write '%s': %s", path, strerror(errno));
    if (fd >= 0) {
      close(fd);
      unlink(tmp);
    }
    free(tmp);
    return NULL;
  }
  bool ok = write(f, user) && fflush(f) == 0 && fchmod(fd, 0644) == 0;
  int err = errno;
  ok = fclose(f) == 0 && ok;
  if (!ok) {
    diag_error("cannot write '%s': %s", path, strerror(err ? err : errno));
    unlink(tmp);
    free(tmp);
    return NULL;
  }
  return tmp;
}

typedef struct Bytes {
  const void *data;
  size_t size;
} Bytes;

static bool write_bytes(FILE *f, void *user) {
  const Bytes *b = user;
  return fwrite(b->data, 1, b->size, f) == b->size;
}

char *util_write_temp(const char *path, const void *data, size_t size) {
  Bytes b = {data, size};
  return util_write_temp_with(path, write_bytes, &b);
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
