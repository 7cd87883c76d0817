/* The includes every file of memtrack's preload needs (C, client side). */
#ifndef MT_PRELOAD_H
#define MT_PRELOAD_H

/* pub_tool_redir.h includes Valgrind's config.h, whose package macros
   would clash with the ones our build passes with -D (unused here). */
#undef PACKAGE
#undef PACKAGE_BUGREPORT
#undef PACKAGE_NAME
#undef PACKAGE_STRING
#undef PACKAGE_TARNAME
#undef PACKAGE_URL
#undef PACKAGE_VERSION
#undef VERSION

#include "pub_tool_basics.h"
#include "pub_tool_redir.h"
#include "pub_tool_clreq.h"
#include "valgrind.h"
#include "memtrack.h"
#include "mt_vgcompat.h"  /* its C part: what DHAT of this release replaces */

#endif /* MT_PRELOAD_H */
