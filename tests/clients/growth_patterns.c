/* A "server" that handles <rounds> requests, each with transient
   allocations (a request buffer and a reply, freed at its end) and one of
   five ways of keeping memory between requests:
     usage: growth_patterns <pattern> <rounds> [<dir>]
   cache     an unbounded cache: a hash map that only inserts (an entry and
             its value per request; the bucket array grows with it);
             still reachable at exit
   handlers  a handler list that only grows: a handler registered per
             request and never removed, in an array that doubles;
             still reachable at exit
   buffer    a buffer cleared after each request but keeping its capacity,
             grown (exactly) whenever a request needs more than it has,
             and requests slowly get bigger; still reachable at exit
   threads   a short-lived thread per request that keeps 512 bytes in
             thread-local data and never frees them (lost at exit)
   steady    a steady-state server: a bounded cache (32 entries, the oldest
             evicted, sizes cycling through 64 values so its total is at
             its highest within the first 100 requests), after a warm-up
             that grows it from empty
   sawtooth  a cache emptied every 50 requests (bounded: it never holds
             more than 50 entries), so its live bytes rise and fall
   With <dir>: waits at point 1 (creates <dir>/at1, waits for <dir>/go1)
   after half of the requests, for vgdb.
   Every request also runs a little arithmetic, so instructions advance
   evenly with requests. No stdio (its buffers would be heap sites). */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wait_point.h"

#define NOINLINE __attribute__((noinline))

static volatile unsigned long sink;

static NOINLINE void work(int round) {
  unsigned long x = (unsigned long)round;
  for (int i = 0; i < 20000; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
  sink = x;
}

static NOINLINE char* request_buffer(size_t n) { return malloc(n); }
static NOINLINE char* reply(size_t n) { return malloc(n); }

/* ---- cache ---- */
struct entry {
  struct entry* next;
  unsigned long key;
  char* value;
};
static struct entry** buckets;
static size_t n_buckets, n_entries;

static NOINLINE struct entry* cache_entry(void) { return malloc(sizeof(struct entry)); }
static NOINLINE char* cache_value(size_t n) { return malloc(n); }
static NOINLINE struct entry** cache_buckets(size_t n) { return calloc(n, sizeof(struct entry*)); }

static void cache_put(unsigned long key, const char* data, size_t n) {
  if (n_entries + 1 > n_buckets * 3 / 4) {
    size_t nb = n_buckets ? n_buckets * 2 : 16;
    struct entry** nbk = cache_buckets(nb);
    for (size_t i = 0; i < n_buckets; i++)
      for (struct entry* e = buckets[i]; e;) {
        struct entry* next = e->next;
        e->next = nbk[e->key % nb];
        nbk[e->key % nb] = e;
        e = next;
      }
    free(buckets);
    buckets = nbk;
    n_buckets = nb;
  }
  struct entry* e = cache_entry();
  e->key = key;
  e->value = cache_value(n);
  memcpy(e->value, data, n);
  e->next = buckets[key % n_buckets];
  buckets[key % n_buckets] = e;
  n_entries++;
}

/* ---- handlers ---- */
struct handler {
  void (*fn)(int);
  int id;
  char name[40];
};
static struct handler** handlers;
static size_t n_handlers, cap_handlers;

static void on_event(int x) { sink += (unsigned long)x; }
static NOINLINE struct handler* new_handler(void) { return malloc(sizeof(struct handler)); }
static NOINLINE void add_handler(int id) {
  if (n_handlers == cap_handlers) {
    cap_handlers = cap_handlers ? cap_handlers * 2 : 4;
    handlers = realloc(handlers, cap_handlers * sizeof *handlers);
  }
  struct handler* h = new_handler();
  h->fn = on_event;
  h->id = id;
  snprintf(h->name, sizeof h->name, "handler-%d", id);
  handlers[n_handlers++] = h;
}

/* ---- buffer ---- */
static char* buf;
static size_t buf_len, buf_cap;

static NOINLINE void buffer_append(const char* data, size_t n) {
  if (buf_len + n > buf_cap) {
    buf_cap = buf_len + n;
    buf = realloc(buf, buf_cap);
  }
  memcpy(buf + buf_len, data, n);
  buf_len += n;
}

/* ---- threads ---- */
static __thread char* thread_data;

static NOINLINE void* thread_main(void* arg) {
  thread_data = malloc(512);
  memset(thread_data, (int)(long)arg, 512);
  sink += (unsigned long)thread_data[3];
  return NULL;
}

/* ---- steady ---- */
#define LRU 32
static char* lru[LRU];
static size_t lru_next;

static NOINLINE char* lru_value(size_t n) { return malloc(n); }

static void lru_put(size_t n) {
  free(lru[lru_next]);
  lru[lru_next] = lru_value(n);
  memset(lru[lru_next], 1, n);
  lru_next = (lru_next + 1) % LRU;
}

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  const char* pattern = argv[1];
  int rounds = atoi(argv[2]);
  char data[4096];
  memset(data, 'x', sizeof data);
  for (int r = 0; r < rounds; r++) {
    if (argc > 3 && r == rounds / 2) wait_at(argv[3], 1);
    work(r);
    char* req = request_buffer(1024 + (size_t)(r % 7) * 100);
    memset(req, 2, 1024);
    char* out = reply(300 + (size_t)(r % 5) * 60);
    memset(out, 3, 300);
    if (!strcmp(pattern, "cache")) {
      cache_put((unsigned long)r * 2654435761UL, data, 200);
    } else if (!strcmp(pattern, "handlers")) {
      add_handler(r);
    } else if (!strcmp(pattern, "buffer")) {
      buf_len = 0; /* cleared: the capacity stays */
      size_t need = 256 + (size_t)r * 40 + (size_t)(r * 7919 % 97);
      while (need) {
        size_t n = need > sizeof data ? sizeof data : need;
        buffer_append(data, n);
        need -= n;
      }
    } else if (!strcmp(pattern, "threads")) {
      pthread_t t;
      if (pthread_create(&t, NULL, thread_main, (void*)(long)r) != 0) return 3;
      pthread_join(t, NULL);
    } else if (!strcmp(pattern, "sawtooth")) {
      if (r % 50 == 0) {
        for (size_t i = 0; i < n_buckets; i++)
          while (buckets[i]) {
            struct entry* e = buckets[i];
            buckets[i] = e->next;
            free(e->value);
            free(e);
          }
        n_entries = 0;
      }
      cache_put((unsigned long)r * 2654435761UL, data, 200);
    } else if (!strcmp(pattern, "steady")) {
      lru_put(100 + (size_t)(r * 37 % 64) * 5);
    } else {
      return 2;
    }
    free(out);
    free(req);
  }
  return 0;
}
