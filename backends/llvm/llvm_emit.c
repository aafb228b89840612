/* STUB */
#include "llvm.h"
bool llvm_emit_object(IrModule *m, const LlvmOptions *o, void **obj, size_t *size) { (void)m; (void)o; (void)obj; (void)size; return false; }
