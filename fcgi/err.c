#include "fcgi/err.h"

static const char *const app_errs[APP__MAX] = {
	[APP_OK] = "success",
	[APP_ENOMEM] = "out of memory",
	[APP_HUP] = "client went away",
	[APP_BADREQ] = "malformed request",
	[APP_TOOBIG] = "request body too large",
	[APP_NOTFOUND] = "not found",
	[APP_UPSTREAM] = "upstream failure",
	[APP_STORE] = "storage failure",
	[APP_SYSTEM] = "system error",
};

const char *
app_strerror(enum app_err e)
{
	if ((unsigned)e >= APP__MAX)
		return "unknown error";
	return app_errs[e];
}
