/*
 * elf_object.h — reading and amending the ELF relocatable objects LLVM
 * emits, without LLVM.
 *
 * Weights in the object's read-only data without LLVM constants (issue 15).
 * The LLVM module declares one external hidden global <model>_weights
 * ([N x i8], 64-aligned) and addresses each weight at an offset in it; LLVM
 * emits an object in which that symbol is undefined.  elf_attach_blob then
 * defines it in a new read-only section appended after the object's bytes,
 * so the weights go from where they lie (the model's buffer or mmap) to the
 * file, never through an LLVM constant or a copy of the blob:
 *
 *   head   the object as LLVM wrote it, with e_shoff/e_shnum and the
 *          symbol's entry updated (its old section headers stay, unused)
 *   zeros  up to blob_offset, the blob's alignment
 *   blob   the new section's bytes, written from the pieces
 *   tail   a copy of the section-name table with the new name appended,
 *          then the section headers: the old ones and the new one last
 *
 * Symbol and section indices are unchanged, so relocations (which name the
 * symbol, undefined until now) are left as they are and resolve to it at
 * link time.  One .o, linked by GNU ld as before.  Little-endian ELF32
 * (Cortex-M) and ELF64 (x86_64, AArch64, RISC-V) relocatable objects; the
 * output is a pure function of the inputs.
 *
 * elf_sizes is the one ELF reader behind the Cortex-M memory fit
 * (cortex_m.c): the allocated sections, by kind.
 */
#ifndef TCC_ELF_OBJECT_H
#define TCC_ELF_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* One piece of the blob: nbytes at data, placed at offset within the blob
 * (pieces in increasing offset order, non-overlapping; gaps are zeros). */
typedef struct ElfBlobPiece {
  const void *data;
  uint64_t offset, nbytes;
} ElfBlobPiece;

/* An object with the blob attached, in three parts so the blob can be
 * written from the weights where they lie (no copy of it is made):
 * file = head[0..head_size) + zeros up to blob_offset + blob (blob_size
 * bytes, from the pieces) + tail[0..tail_size), total_size bytes. */
typedef struct ElfWithBlob {
  unsigned char *head;
  size_t head_size;
  uint64_t blob_offset, blob_size;
  unsigned char *tail;
  size_t tail_size;
  uint64_t total_size;
} ElfWithBlob;

/* obj/size: a little-endian ELF32 or ELF64 relocatable object (ET_REL) in
 * which `symbol` is undefined.  Defines `symbol` (st_value 0, st_size
 * blob_size, type STT_OBJECT, binding and visibility kept) in a new
 * SHT_PROGBITS section named `section`, flags SHF_ALLOC only (read-only
 * data), sh_addralign `align` (a power of two), holding the blob.  False
 * with a diagnostic when obj is not such an object, the symbol is missing
 * or already defined ("internal error: ...": tcc produced the input), or
 * the result would not fit the ELF class (ELF32: 4 GiB; the message gives
 * the sizes).  *out is set only on success; free it with
 * elf_with_blob_free. */
bool elf_attach_blob(const void *obj, size_t size, const char *symbol,
                     const char *section, uint64_t blob_size, unsigned align,
                     ElfWithBlob *out);
void elf_with_blob_free(ElfWithBlob *w);

/* Writes the whole object to f (pieces give the blob's bytes); false on a
 * write error (errno kept, no diagnostic). */
bool elf_write_with_blob(FILE *f, const ElfWithBlob *w,
                         const ElfBlobPiece *pieces, int num_pieces);
/* The whole object in one malloc'd buffer of w->total_size bytes; NULL on
 * allocation failure. */
void *elf_flatten_with_blob(const ElfWithBlob *w, const ElfBlobPiece *pieces,
                            int num_pieces);

/* Sizes of the allocated sections of an ELF32/ELF64 relocatable object:
 * executable, read-only, writable (cortex_m.c reports them as code,
 * weights and constants, data).  False when the bytes are not one. */
typedef struct ElfSizes {
  uint64_t code, rodata, data;
} ElfSizes;
bool elf_sizes(const void *obj, size_t size, ElfSizes *out);

/* Whether the object's symbol table names `name` (an object whose code no
 * longer reads the weights has no reference to their blob). */
bool elf_has_symbol(const void *obj, size_t size, const char *name);

/* 32 or 64 for a little-endian ELF32/ELF64 relocatable object, else 0. */
int elf_class_bits(const void *obj, size_t size);

#endif
