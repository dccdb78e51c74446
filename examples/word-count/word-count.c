/* Word counter (WASI, C with wasi-libc): reads text on stdin and prints, as one line of JSON,
   its lines, words and bytes (as wc counts them) and the five most frequent words, lower-cased
   (letters, digits and apostrophes; ties in alphabetical order). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A word longer than this is counted but truncated in the table. */
#define MAX_WORD 64
#define TOP 5

struct entry { char word[MAX_WORD + 1]; unsigned count; };

static struct entry *table;
static size_t cap, used;

static unsigned long hash(const char *s) {
  unsigned long h = 5381;
  while (*s) h = h * 33 + (unsigned char)*s++;
  return h;
}

static void grow(void);

static void add(const char *w) {
  if ((used + 1) * 2 > cap) grow();
  size_t i = hash(w) & (cap - 1);
  while (table[i].count != 0 && strcmp(table[i].word, w) != 0) i = (i + 1) & (cap - 1);
  if (table[i].count == 0) { strcpy(table[i].word, w); used++; }
  table[i].count++;
}

/* open addressing, doubled at half full so probes stay short */
static void grow(void) {
  struct entry *old = table;
  size_t old_cap = cap;
  cap = cap == 0 ? 256 : cap * 2;
  table = calloc(cap, sizeof *table);
  if (table == NULL) { fputs("out of memory\n", stderr); exit(1); }
  used = 0;
  for (size_t i = 0; i < old_cap; i++) {
    if (old[i].count == 0) continue;
    size_t j = hash(old[i].word) & (cap - 1);
    while (table[j].count != 0) j = (j + 1) & (cap - 1);
    table[j] = old[i];
    used++;
  }
  free(old);
}

static int by_count(const void *a, const void *b) {
  const struct entry *x = a, *y = b;
  if (x->count != y->count) return x->count > y->count ? -1 : 1;
  return strcmp(x->word, y->word);
}

static int word_char(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '\'';
}

static int space(int c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

int main(void) {
  unsigned long lines = 0, words = 0, bytes = 0;
  int in_word = 0;
  char word[MAX_WORD + 1];
  size_t wlen = 0;
  grow();
  for (int c; (c = getchar()) != EOF;) {
    bytes++;
    if (c == '\n') lines++;
    /* wc's words: runs of non-space */
    if (space(c)) in_word = 0;
    else if (!in_word) { in_word = 1; words++; }
    /* the table's words: runs of letters, digits and apostrophes */
    if (word_char(c)) {
      if (wlen < MAX_WORD) word[wlen++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    } else if (wlen > 0) {
      word[wlen] = 0; add(word); wlen = 0;
    }
  }
  if (wlen > 0) { word[wlen] = 0; add(word); }
  struct entry *all = malloc((used + 1) * sizeof *all);
  size_t n = 0;
  for (size_t i = 0; i < cap; i++) if (table[i].count != 0) all[n++] = table[i];
  qsort(all, n, sizeof *all, by_count);
  printf("{\"lines\":%lu,\"words\":%lu,\"bytes\":%lu,\"top\":[", lines, words, bytes);
  for (size_t i = 0; i < n && i < TOP; i++) printf("%s[\"%s\",%u]", i == 0 ? "" : ",", all[i].word, all[i].count);
  printf("]}\n");
  return 0;
}
