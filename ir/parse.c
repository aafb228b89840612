/* STUB */
#include "ir.h"
IrModule *ir_parse(const char *text, size_t len, const char *filename) { (void)text; (void)len; (void)filename; return NULL; }
