/*
 * ringo/ringo.h - everything: Go's goroutines, channels and I/O for C.
 *
 * Start with ringo_run() (ringo/sched.h); each header documents its area
 * and its error convention at the top.
 */
#ifndef RINGO_RINGO_H
#define RINGO_RINGO_H

#include <ringo/sched.h>
#include <ringo/chan.h>
#include <ringo/context.h>
#include <ringo/errgroup.h>
#include <ringo/diag.h>
#include <ringo/sync.h>
#include <ringo/time.h>
#include <ringo/fs.h>
#include <ringo/net.h>

#endif
