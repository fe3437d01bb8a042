/*
 * For tests that park coroutines: the event loop and two resume threads
 * started, and a count of the coroutines that finished on them.
 */
#ifndef CORO_FIXTURE_H
#define CORO_FIXTURE_H

void	coro_fixture_start(void);
void	coro_fixture_stop(void);
/* Blocks until n coroutines have finished on the resume threads. */
void	coro_fixture_wait(int n);

#endif
