/* header.h — the C header that describes one compiled model (header.c). */
#ifndef TCC_HEADER_H
#define TCC_HEADER_H

#include "ir.h"

/* Text of <name>.h for the lowered, planned module; malloc'd.  It declares
 * <name>_run, the typed wrapper, and per input/output: name, element type,
 * shape (symbols with bounds), byte size; the workspace size; the ABI. */
char *header_emit(const IrModule *m);

#endif
