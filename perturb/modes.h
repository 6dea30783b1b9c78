/* The perturbation modes by name, in the order every list shows them: the
 * one list. Bit i of a set of modes is kSockparityPerturbModes[i]. The
 * library parses SOCKPARITY_PERTURB by it, `sockparity check --perturb`
 * checks its argument against it, and `sockparity check --list-modes`
 * prints it for scripts (ci/conform, ci/results.py). C, for the library. */
#ifndef SOCKPARITY_PERTURB_MODES_H_
#define SOCKPARITY_PERTURB_MODES_H_

#define SOCKPARITY_PERTURB_MODE_COUNT 3

static const char* const
    kSockparityPerturbModes[SOCKPARITY_PERTURB_MODE_COUNT] = {
        "short-io", /* reads and writes cut short */
        "eintr",    /* calls interrupted by a signal */
        "accept-aborted", /* accept fails with ECONNABORTED */
};

#endif /* SOCKPARITY_PERTURB_MODES_H_ */
