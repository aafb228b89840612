/* STUB */
#include "ir.h"
bool ir_interp_run(IrModule *m, IrFunc *f, void *const *buffers, void *workspace) { (void)m; (void)f; (void)buffers; (void)workspace; return false; }
