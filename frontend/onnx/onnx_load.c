/* STUB */
#include "onnx.h"
IrModule *onnx_load_file(const char *path, const OnnxLoadOptions *o) { (void)path; (void)o; return NULL; }
IrModule *onnx_load_memory(const void *data, size_t size, const char *path, const OnnxLoadOptions *o) { (void)data; (void)size; (void)path; (void)o; return NULL; }
