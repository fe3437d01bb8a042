/*
 * Shared main() for the Check unit tests.  Every test program prints one
 * "# counts: N passed, M failed" line; tests/run-all sums them up.
 */
#ifndef UNIT_H
#define UNIT_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#define UNIT_MAIN(suite_fn)						\
int main(void)								\
{									\
	SRunner *sr = srunner_create(suite_fn());			\
	int run, failed;						\
	srunner_run_all(sr, CK_NORMAL);					\
	run = srunner_ntests_run(sr);					\
	failed = srunner_ntests_failed(sr);				\
	srunner_free(sr);						\
	printf("# counts: %d passed, %d failed\n", run - failed, failed); \
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;	\
}

#endif
