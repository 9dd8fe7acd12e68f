// Losses, mean-reduced as torch does. Each writes the gradient of the loss
// with respect to the prediction into dz, and one term per row into terms;
// reduce.wgsl then sums the terms in a fixed order into the loss value.
//   mse:           terms[r] = sum_c (z - t)^2 / N,      dz = 2 (z - t) / N,      N = rows * cols
//   cross_entropy: terms[r] = (logsumexp(z_r) - z_r[t_r]) / rows,  dz = (softmax(z_r) - onehot(t_r)) / rows
//                  correct[r] = 1 when argmax(z_r) == t_r (first maximum wins, as torch.argmax)
struct Params {
  rows: u32,
  cols: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;          // predictions [rows, cols]
@group(0) @binding(2) var<storage, read> want: array<f32>;     // [rows, cols] (mse) or class ids [rows]
@group(0) @binding(3) var<storage, read_write> dz: array<f32>;   // [rows, cols]
@group(0) @binding(4) var<storage, read_write> terms: array<f32>;   // [rows]
@group(0) @binding(5) var<storage, read_write> correct: array<f32>; // [rows]

override WG: u32 = 64u;

fn row_index(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

@compute @workgroup_size(WG)
fn mse(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = row_index(gid, nwg);
  if (r >= p.rows) { return; }
  let n = f32(p.rows * p.cols);
  var s = 0.0;
  for (var c = 0u; c < p.cols; c++) {
    let i = r * p.cols + c;
    let d = z[i] - want[i];
    s = fma(d, d, s);
    dz[i] = 2.0 * d / n;
  }
  terms[r] = s / n;
}

@compute @workgroup_size(WG)
fn cross_entropy(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = row_index(gid, nwg);
  if (r >= p.rows) { return; }
  let base = r * p.cols;
  let label = u32(want[r]);
  var best = 0u;
  var zmax = z[base];
  for (var c = 1u; c < p.cols; c++) {
    if (z[base + c] > zmax) {
      zmax = z[base + c];
      best = c;
    }
  }
  var sum = 0.0;
  for (var c = 0u; c < p.cols; c++) { sum += exp(z[base + c] - zmax); }
  let lse = zmax + log(sum);
  let inv_rows = 1.0 / f32(p.rows);
  for (var c = 0u; c < p.cols; c++) {
    let soft = exp(z[base + c] - lse);
    dz[base + c] = (soft - select(0.0, 1.0, c == label)) * inv_rows;
  }
  terms[r] = (lse - z[base + label]) * inv_rows;
  correct[r] = select(0.0, 1.0, best == label);
}
