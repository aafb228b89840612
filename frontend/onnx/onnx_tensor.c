/* STUB */
#include "onnx.h"
bool onnx_tensor_read_file(const char *path, OnnxTensor *t) { (void)path; (void)t; return false; }
bool onnx_tensor_read_memory(const void *data, size_t size, const char *path, OnnxTensor *t) { (void)data; (void)size; (void)path; (void)t; return false; }
bool onnx_tensor_write_file(const char *path, const OnnxTensor *t) { (void)path; (void)t; return false; }
void onnx_tensor_free(OnnxTensor *t) { (void)t; }
