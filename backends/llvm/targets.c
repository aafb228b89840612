/* STUB */
#include "llvm.h"
const TccTarget *target_find(const char *name) { (void)name; return 0; }
int target_count(void) { return 0; }
const TccTarget *target_at(int i) { (void)i; return 0; }
bool target_check_cpu(const TccTarget *t, const char *cpu) { (void)t; (void)cpu; return true; }
bool target_check_features(const TccTarget *t, const char *f) { (void)t; (void)f; return true; }
