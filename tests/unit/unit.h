/* unit.h: shared helpers of the host unit tests (Check framework). */
#ifndef FRESCO_UNIT_H
#define FRESCO_UNIT_H

#include <check.h>
#include <stdlib.h>

/* Run the one suite (s) and return the process exit status. */
static inline int unit_run(Suite *s)
{
	SRunner *r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
