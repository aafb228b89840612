/* STUB */
#include <stdlib.h>
#include "header.h"
char *header_emit(const IrModule *m) { (void)m; return calloc(1, 1); }
