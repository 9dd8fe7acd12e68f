// The register-tiled product shared by the layer kernels (kan_*.wgsl): a
// 16 x 16 workgroup computes a 64 x 64 output tile, each thread 4 x 4 outputs
// strided by 16, from a_tile [TK][TM] and b_tile [TK][TN] in workgroup memory.
// Each kernel fills the tiles its own way (that is where bases are evaluated).
const TM: u32 = 64u; // output rows per workgroup
const TN: u32 = 64u; // output columns per workgroup
const TK: u32 = 16u; // reduction chunk
const RM: u32 = 4u;  // rows per thread (strided by 16)
const RN: u32 = 4u;  // columns per thread (strided by 16)

var<workgroup> a_tile: array<f32, 1024>; // [TK][TM]
var<workgroup> b_tile: array<f32, 1024>; // [TK][TN]

// acc[m * RN + n] += sum_c a_tile[c][lid.y + 16 m] * b_tile[c][lid.x + 16 n].
// rows and cols are how many rows and columns of the tile are in range: a
// thread with none in range skips the work (on a CPU adapter such as lavapipe
// that is most of the cost of a small problem; on a GPU it idles either way).
fn tile_product(lid: vec3u, acc: ptr<function, array<f32, 16>>, rows: u32, cols: u32) {
  if (lid.y >= rows || lid.x >= cols) { return; }
  for (var c = 0u; c < TK; c++) {
    var av: array<f32, 4>;
    var bv: array<f32, 4>;
    for (var m = 0u; m < RM; m++) { av[m] = a_tile[c * TM + lid.y + 16u * m]; }
    for (var n = 0u; n < RN; n++) { bv[n] = b_tile[c * TN + lid.x + 16u * n]; }
    for (var m = 0u; m < RM; m++) {
      for (var n = 0u; n < RN; n++) {
        (*acc)[m * RN + n] = fma(av[m], bv[n], (*acc)[m * RN + n]);
      }
    }
  }
}
