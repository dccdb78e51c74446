/* Counts lines, words and bytes (as wc does) of every file under /data, the guest folder a
   drive is mounted at (shadw invoke --mount DRIVE::/data), and prints them as one line of JSON:
   the totals and each file, sorted by path. Without a mount it counts stdin as one file named
   "-", so the catalogue's example and a plain POST /fn call answer too. WASI, C with wasi-libc:
   opendir/readdir/stat walk the mounted tree the same as any POSIX one. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ROOT "/data"
/* Deeper trees and more files than these are refused, not truncated: a partial count would
   read as a whole one. Fuel bounds the work anyway; these bound the memory. */
#define MAX_DEPTH 32
#define MAX_FILES 10000
#define MAX_PATH 1024

struct count { char *path; unsigned long lines, words, bytes; };

static struct count *files;
static size_t nfiles, cap;

static void die(const char *what, const char *path) {
  fprintf(stderr, "tree-count: %s: %s\n", path, what);
  exit(1);
}

static int space(int c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static void count(FILE *f, const char *path) {
  if (nfiles == MAX_FILES) die("more files than tree-count counts", ROOT);
  if (nfiles == cap) {
    cap = cap == 0 ? 64 : cap * 2;
    files = realloc(files, cap * sizeof *files);
    if (files == NULL) die("out of memory", path);
  }
  struct count *c = &files[nfiles++];
  c->path = strdup(path);
  if (c->path == NULL) die("out of memory", path);
  c->lines = c->words = c->bytes = 0;
  int in_word = 0;
  for (int ch; (ch = getc(f)) != EOF;) {
    c->bytes++;
    if (ch == '\n') c->lines++;
    if (space(ch)) in_word = 0;
    else if (!in_word) { in_word = 1; c->words++; }
  }
  if (ferror(f)) die(strerror(errno), path);
}

/* The path being walked, "/data/..." and the part below /data at rel: one buffer for the whole
   walk, so a deep tree costs the stack a few words per level, not a path per level (wasi-libc's
   stack is 64 KiB and nothing guards its end). */
static char path[MAX_PATH] = ROOT;
#define REL (sizeof ROOT)

static void walk(size_t len, int depth) {
  if (depth > MAX_DEPTH) die("folders nested too deep", path);
  DIR *d = opendir(path);
  if (d == NULL) die(strerror(errno), path);
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    size_t n = strlen(e->d_name);
    if (len + 1 + n >= MAX_PATH) die("path too long", path);
    path[len] = '/';
    memcpy(path + len + 1, e->d_name, n + 1);
    struct stat st;
    if (stat(path, &st) != 0) die(strerror(errno), path);
    if (S_ISDIR(st.st_mode)) walk(len + 1 + n, depth + 1);
    else if (S_ISREG(st.st_mode)) {
      FILE *f = fopen(path, "rb");
      if (f == NULL) die(strerror(errno), path);
      count(f, path + REL);
      fclose(f);
    }
    path[len] = '\0';
  }
  closedir(d);
}

static int by_path(const void *a, const void *b) {
  return strcmp(((const struct count *)a)->path, ((const struct count *)b)->path);
}

static void json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\') printf("\\%c", ch);
    else if (ch < 0x20) printf("\\u%04x", ch);
    else putchar(ch);
  }
  putchar('"');
}

int main(void) {
  struct stat st;
  if (stat(ROOT, &st) == 0 && S_ISDIR(st.st_mode)) walk(REL - 1, 0);
  else count(stdin, "-");
  qsort(files, nfiles, sizeof *files, by_path);
  unsigned long lines = 0, words = 0, bytes = 0;
  for (size_t i = 0; i < nfiles; i++) { lines += files[i].lines; words += files[i].words; bytes += files[i].bytes; }
  printf("{\"files\":%zu,\"lines\":%lu,\"words\":%lu,\"bytes\":%lu,\"each\":[", nfiles, lines, words, bytes);
  for (size_t i = 0; i < nfiles; i++) {
    printf(i == 0 ? "[" : ",[");
    json_string(files[i].path);
    printf(",%lu,%lu,%lu]", files[i].lines, files[i].words, files[i].bytes);
  }
  printf("]}\n");
  return 0;
}
