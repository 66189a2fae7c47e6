/*
 * core/switch.h - switching an M between contexts (see core/switch.c).
 */
#ifndef RINGO_CORE_SWITCH_H
#define RINGO_CORE_SWITCH_H

#include "runtime.h"

/* Save `from` (NULL = the M's g0) and resume `to` (NULL = g0). The caller
 * has set m->after for `from`. Returns when `from` is resumed, possibly on
 * another M, with that M's after-work done. */
void ringo__switch(struct ringo__m *m, struct ringo__g *from,
		  struct ringo__g *to);

/* Switch away from g, RUNNING on m, which has set g's status: straight
 * to the next G of m's P when there is one, else to the M's g0. `after`
 * is what the next context does for g once g's registers are saved (for
 * PARK, m->after_unlockf and after_arg are set too). Returns when g runs
 * again, possibly on another M. */
void ringo__leave(struct ringo__m *m, struct ringo__g *g,
		  enum ringo__after after);

/* Run by every context right after it resumes (self = NULL for g0): the
 * sanitizer hand-shake, the previous G's after-work, errno. */
void ringo__switch_finish(struct ringo__g *self);

/* Sanitizer state of a G that is about to run for the first time, of a G
 * whose stack is about to be freed, and of a new M's own thread. */
void ringo__switch_prepare_g(struct ringo__g *g);
void ringo__switch_release_g(struct ringo__g *g);
void ringo__switch_init_m(struct ringo__m *m);

#endif
