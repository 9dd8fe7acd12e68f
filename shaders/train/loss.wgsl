// Losses, mean-reduced as torch does. Each writes the gradient of the loss
// with respect to the prediction into dz, and terms whose sum (reduce.wgsl,
// in a fixed order) is the loss value.
//   mse:           terms[e] = (z - t)^2 / N,  dz = 2 (z - t) / N,  N = rows * cols, one thread per element
//   cross_entropy: terms[r] = (logsumexp(z_r) - z_r[t_r]) / rows,  dz = (softmax(z_r) - onehot(t_r)) / rows
//                  correct[r] = 1 when argmax(z_r) == t_r (first maximum wins, as torch.argmax)
// cross_entropy does a row in one invocation when its three passes fit the
// loop-trip budget (src/gpu/loop_trips.ts); longer rows take ce_partial (max,
// argmax and sum of exp per (row, chunk of classes) into part), ce_combine
// (the row's log-sum-exp, into the first chunk's slot; terms and correct) and
// ce_grad (dz element by element).
struct Params {
  rows: u32,
  cols: u32,
  chunk: u32,  // classes per chunk
  chunks: u32, // chunks per row
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;          // predictions [rows, cols]
@group(0) @binding(2) var<storage, read> want: array<f32>;     // [rows, cols] (mse) or class ids [rows]
@group(0) @binding(3) var<storage, read_write> dz: array<f32>;   // [rows, cols]
@group(0) @binding(4) var<storage, read_write> terms: array<f32>;   // [rows * cols] (mse) or [rows]
@group(0) @binding(5) var<storage, read_write> correct: array<f32>; // [rows]
@group(0) @binding(6) var<storage, read_write> part: array<f32>;    // [rows, chunks, 3]

override WG: u32 = 64u;

fn index(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

@compute @workgroup_size(WG)
fn mse(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = index(gid, nwg);
  if (e >= p.rows * p.cols) { return; }
  let n = f32(p.rows * p.cols);
  let d = z[e] - want[e];
  dz[e] = 2.0 * d / n;
  terms[e] = d * d / n;
}

fn grad(r: u32, c: u32, lse: f32) -> f32 {
  let soft = exp(z[r * p.cols + c] - lse);
  return (soft - select(0.0, 1.0, c == u32(want[r]))) / f32(p.rows);
}

fn finish(r: u32, lse: f32, best: u32) {
  let label = u32(want[r]);
  terms[r] = (lse - z[r * p.cols + label]) / f32(p.rows);
  correct[r] = select(0.0, 1.0, best == label);
}

@compute @workgroup_size(WG)
fn cross_entropy(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = index(gid, nwg);
  if (r >= p.rows) { return; }
  let base = r * p.cols;
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
  for (var c = 0u; c < p.cols; c++) { dz[base + c] = grad(r, c, lse); }
  finish(r, lse, best);
}

@compute @workgroup_size(WG)
fn ce_partial(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = index(gid, nwg);
  if (e >= p.rows * p.chunks) { return; }
  let r = e / p.chunks;
  let begin = (e % p.chunks) * p.chunk;
  let end = min(p.cols, begin + p.chunk);
  var best = begin;
  var zmax = z[r * p.cols + begin];
  for (var c = begin + 1u; c < end; c++) {
    if (z[r * p.cols + c] > zmax) {
      zmax = z[r * p.cols + c];
      best = c;
    }
  }
  var sum = 0.0;
  for (var c = begin; c < end; c++) { sum += exp(z[r * p.cols + c] - zmax); }
  part[3u * e] = zmax;
  part[3u * e + 1u] = sum;
  part[3u * e + 2u] = f32(best);
}

@compute @workgroup_size(WG)
fn ce_combine(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = index(gid, nwg);
  if (r >= p.rows) { return; }
  let first = 3u * r * p.chunks;
  var zmax = part[first];
  var best = part[first + 2u];
  for (var c = 1u; c < p.chunks; c++) {
    if (part[first + 3u * c] > zmax) {
      zmax = part[first + 3u * c];
      best = part[first + 3u * c + 2u];
    }
  }
  var sum = 0.0;
  for (var c = 0u; c < p.chunks; c++) { sum += part[first + 3u * c + 1u] * exp(part[first + 3u * c] - zmax); }
  let lse = zmax + log(sum);
  part[first] = lse;
  finish(r, lse, u32(best));
}

@compute @workgroup_size(WG)
fn ce_grad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = index(gid, nwg);
  if (e >= p.rows * p.cols) { return; }
  let r = e / p.cols;
  dz[e] = grad(r, e % p.cols, part[3u * r * p.chunks]);
}
