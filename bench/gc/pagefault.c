// The C floor for the GC's memory churn (issue 16, bench/gc.sh): what this machine charges for memory the .NET GC gives
// back and takes again. It does, on one 64 MiB range, what the workstation GC does to a 4 MiB region it decommits and
// later reuses (strace of the spawn benchmark): decommit with mmap(MAP_FIXED, PROT_NONE) and madvise(MADV_DONTDUMP),
// recommit 64 KiB at a time with mprotect(PROT_READ|PROT_WRITE) and madvise(MADV_DODUMP), then write every byte (the GC
// clears memory before it hands it out). Each mode is timed per 4 KiB page, several rounds, median printed:
//   fresh      first touch of never-used anonymous memory (one write per page): the page fault alone
//   recommit   decommit, recommit and write every byte: the GC's churn, per page
//   reuse      write every byte of memory kept committed: what the GC pays when it keeps its regions (the floor)
//   huge       as fresh, with madvise(MADV_HUGEPAGE) (transparent huge pages in "madvise" mode): 2 MiB per fault
//   pagefault [--rounds N] [--json]
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#define RANGE ((size_t)64 << 20)
#define PAGE ((size_t)4096)
#define COMMIT_STEP ((size_t)64 << 10)
#define HUGE ((size_t)2 << 20)
#define MAX_ROUNDS 64

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static long minor_faults(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt;
}

static char *map_aligned(size_t size)
{
    char *p = mmap(NULL, size + HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); exit(1); }
    return (char *)(((uintptr_t)p + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
}

static void touch_pages(char *p, size_t size)
{
    for (size_t i = 0; i < size; i += PAGE) ((volatile char *)p)[i] = 1;
}

static void decommit(char *p, size_t size)
{
    if (mmap(p, size, PROT_NONE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0) == MAP_FAILED) { perror("mmap fixed"); exit(1); }
    madvise(p, size, MADV_DONTDUMP);
}

static void recommit(char *p, size_t size)
{
    for (size_t i = 0; i < size; i += COMMIT_STEP)
    {
        if (mprotect(p + i, COMMIT_STEP, PROT_READ | PROT_WRITE) != 0) { perror("mprotect"); exit(1); }
        madvise(p + i, COMMIT_STEP, MADV_DODUMP);
    }
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    int rounds = 5, json = 0;
    for (int i = 1; i < argc; i++)
    {
        if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--json") == 0) json = 1;
        else { fprintf(stderr, "usage: pagefault [--rounds N] [--json]\n"); return 2; }
    }
    if (rounds < 1 || rounds > MAX_ROUNDS) { fprintf(stderr, "pagefault: --rounds must be 1-%d\n", MAX_ROUNDS); return 2; }

    const double pages = (double)(RANGE / PAGE);
    double fresh[MAX_ROUNDS], recommitted[MAX_ROUNDS], reuse[MAX_ROUNDS], huge[MAX_ROUNDS];
    long fresh_faults = 0, recommit_faults = 0, huge_faults = 0;
    char *kept = map_aligned(RANGE);
    memset(kept, 1, RANGE); // committed and touched once: the "reuse" range
    for (int r = 0; r < rounds; r++)
    {
        char *p = map_aligned(RANGE);
        long f = minor_faults();
        double t = now();
        touch_pages(p, RANGE);
        fresh[r] = (now() - t) * 1e9 / pages;
        fresh_faults += minor_faults() - f;

        f = minor_faults();
        t = now();
        decommit(p, RANGE);
        recommit(p, RANGE);
        memset(p, 0, RANGE);
        recommitted[r] = (now() - t) * 1e9 / pages;
        recommit_faults += minor_faults() - f;
        munmap(p, RANGE);

        t = now();
        memset(kept, 0, RANGE);
        reuse[r] = (now() - t) * 1e9 / pages;

        char *h = map_aligned(RANGE);
        madvise(h, RANGE, MADV_HUGEPAGE);
        f = minor_faults();
        t = now();
        touch_pages(h, RANGE);
        huge[r] = (now() - t) * 1e9 / pages;
        huge_faults += minor_faults() - f;
        munmap(h, RANGE);
    }
    double m_fresh = median(fresh, rounds), m_recommit = median(recommitted, rounds);
    double m_reuse = median(reuse, rounds), m_huge = median(huge, rounds);
    if (json)
        printf("{\"bench\":\"pagefault\",\"impl\":\"c\",\"rounds\":%d,\"fresh_ns_per_page\":%.0f,\"recommit_ns_per_page\":%.0f,"
               "\"reuse_ns_per_page\":%.0f,\"huge_ns_per_page\":%.0f,\"faults_per_round_fresh\":%ld,"
               "\"faults_per_round_recommit\":%ld,\"faults_per_round_huge\":%ld}\n",
               rounds, m_fresh, m_recommit, m_reuse, m_huge, fresh_faults / rounds, recommit_faults / rounds, huge_faults / rounds);
    else
        printf("pagefault: per 4 KiB page, median of %d rounds of 64 MiB: fresh %.2f us (%ld faults), "
               "decommit+recommit+clear %.2f us (%ld faults), clear kept memory %.2f us, huge pages %.2f us (%ld faults)\n",
               rounds, m_fresh / 1e3, fresh_faults / rounds, m_recommit / 1e3, recommit_faults / rounds, m_reuse / 1e3,
               m_huge / 1e3, huge_faults / rounds);
    return 0;
}
