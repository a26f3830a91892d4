// The 3D room with three.js: one draw call per kind of thing, whatever the room holds.
// Device boxes, racks, places and alert beacons are InstancedMeshes; every label (devices,
// racks, places, cables) is one merged mesh over one canvas atlas; every cable one
// LineSegments with vertex colours. 20 racks, 300 devices and 300 cables draw in ~10 calls
// (renderer.info.render.calls; tests/test_room_e2e.py asserts <= 30).
//
// This module (and three with it) is only in the room page's chunk (lazy.tsx).

import * as THREE from "three";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";
import type { Box, Layout, Vec3 } from "./room";

const CELL_W = 256;
const CELL_H = 32;
const ATLAS_W = 2048;
const MAX_LABELS = (ATLAS_W / CELL_W) * (4096 / CELL_H);

export interface RoomView {
  /** Recolour devices (state/heat) without rebuilding; false when the layout changed shape. */
  recolour(next: Layout): boolean;
  flyTo(name: string): boolean;
  resize(): void;
  /** Draw calls and triangles of the last frame (three's own counters). */
  info(): { calls: number; triangles: number };
  /** Render ``frames`` frames back to back (orbiting a little); mean ms per frame. */
  timeFrames(frames: number): number;
  dispose(): void;
}

function boxMatrix(box: Box, m: THREE.Matrix4): THREE.Matrix4 {
  const q = new THREE.Quaternion().setFromAxisAngle(new THREE.Vector3(0, 1, 0), box.yaw);
  return m.compose(new THREE.Vector3(...box.centre), q, new THREE.Vector3(...box.size));
}

function instanced(boxes: Box[], material: THREE.Material): THREE.InstancedMesh {
  const mesh = new THREE.InstancedMesh(new THREE.BoxGeometry(1, 1, 1), material, Math.max(1, boxes.length));
  const m = new THREE.Matrix4();
  const colour = new THREE.Color();
  boxes.forEach((box, i) => {
    mesh.setMatrixAt(i, boxMatrix(box, m));
    mesh.setColorAt(i, colour.setHex(box.colour));
  });
  mesh.count = boxes.length;
  mesh.instanceMatrix.needsUpdate = true;
  if (mesh.instanceColor) mesh.instanceColor.needsUpdate = true;
  mesh.computeBoundingSphere();
  return mesh;
}

function labelsMesh(layout: Layout): THREE.Mesh {
  const labels = layout.labels.slice(0, MAX_LABELS);
  const cols = ATLAS_W / CELL_W;
  const rows = Math.max(1, Math.ceil(labels.length / cols));
  const height = Math.min(4096, 2 ** Math.ceil(Math.log2(rows * CELL_H)));
  const canvas = document.createElement("canvas");
  canvas.width = ATLAS_W;
  canvas.height = height;
  const ctx = canvas.getContext("2d")!;
  ctx.font = "bold 22px system-ui, sans-serif";
  ctx.textBaseline = "middle";
  const positions: number[] = [];
  const uvs: number[] = [];
  const index: number[] = [];
  labels.forEach((label, i) => {
    const cx = (i % cols) * CELL_W;
    const cy = Math.floor(i / cols) * CELL_H;
    ctx.fillStyle = "rgba(13,17,23,0.78)";
    ctx.fillRect(cx, cy, CELL_W, CELL_H);
    ctx.fillStyle = "#e6edf3";
    let text = label.text;
    while (text.length > 1 && ctx.measureText(text).width > CELL_W - 12) text = text.slice(0, -1);
    ctx.fillText(text === label.text ? text : `${text.slice(0, -1)}…`, cx + 6, cy + CELL_H / 2 + 1);
    const w = label.width;
    const h = w * (CELL_H / CELL_W);
    const c = Math.cos(label.yaw);
    const s = Math.sin(label.yaw);
    const base = positions.length / 3;
    for (const [lx, ly] of [
      [-w / 2, -h / 2],
      [w / 2, -h / 2],
      [w / 2, h / 2],
      [-w / 2, h / 2],
    ]) {
      // a plane facing +z, turned by yaw about +y
      positions.push(label.at[0] + lx * c, label.at[1] + ly, label.at[2] - lx * s);
    }
    const u0 = cx / ATLAS_W;
    const u1 = (cx + CELL_W) / ATLAS_W;
    const v0 = 1 - (cy + CELL_H) / height;
    const v1 = 1 - cy / height;
    uvs.push(u0, v0, u1, v0, u1, v1, u0, v1);
    index.push(base, base + 1, base + 2, base, base + 2, base + 3);
  });
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute("position", new THREE.Float32BufferAttribute(positions, 3));
  geometry.setAttribute("uv", new THREE.Float32BufferAttribute(uvs, 2));
  geometry.setIndex(index);
  const texture = new THREE.CanvasTexture(canvas);
  texture.anisotropy = 4;
  const material = new THREE.MeshBasicMaterial({ map: texture, transparent: true, side: THREE.DoubleSide, depthWrite: false });
  return new THREE.Mesh(geometry, material);
}

function cablesMesh(layout: Layout): THREE.LineSegments {
  const positions: number[] = [];
  const colours: number[] = [];
  const colour = new THREE.Color();
  for (const path of layout.cables) {
    colour.setHex(path.colour);
    for (let i = 0; i + 1 < path.points.length; i++) {
      positions.push(...path.points[i], ...path.points[i + 1]);
      colours.push(colour.r, colour.g, colour.b, colour.r, colour.g, colour.b);
    }
  }
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute("position", new THREE.Float32BufferAttribute(positions, 3));
  geometry.setAttribute("color", new THREE.Float32BufferAttribute(colours, 3));
  return new THREE.LineSegments(geometry, new THREE.LineBasicMaterial({ vertexColors: true }));
}

export function createRoom(canvas: HTMLCanvasElement, layout: Layout, onPick: (name: string) => void): RoomView {
  const renderer = new THREE.WebGLRenderer({ canvas, antialias: false, powerPreference: "low-power" });
  renderer.setPixelRatio(Math.min(2, window.devicePixelRatio || 1));
  renderer.info.autoReset = true;
  const scene = new THREE.Scene();
  scene.background = new THREE.Color(0x0d1117);
  const { w, d, h } = layout.room.size;
  const camera = new THREE.PerspectiveCamera(50, 1, 0.05, 200);
  camera.position.set(w / 2, Math.max(h * 1.25, 2.5), d + Math.max(w, d) * 0.5);
  const controls = new OrbitControls(camera, canvas);
  controls.target.set(w / 2, 0.8, d / 2);
  controls.maxPolarAngle = Math.PI * 0.49;
  controls.minDistance = 0.3;
  controls.maxDistance = 60;
  controls.update();

  scene.add(new THREE.HemisphereLight(0xffffff, 0x30363d, 2.2));
  const sun = new THREE.DirectionalLight(0xffffff, 1.2);
  sun.position.set(w, h * 3, d * 2);
  scene.add(sun);

  const floor = new THREE.Mesh(new THREE.PlaneGeometry(w, d), new THREE.MeshStandardMaterial({ color: 0x161b22 }));
  floor.rotation.x = -Math.PI / 2;
  floor.position.set(w / 2, 0, d / 2);
  scene.add(floor);
  const walls = new THREE.LineSegments(
    new THREE.EdgesGeometry(new THREE.BoxGeometry(w, h, d)),
    new THREE.LineBasicMaterial({ color: 0x30363d }),
  );
  walls.position.set(w / 2, h / 2, d / 2);
  scene.add(walls);

  // Racks: only their inside faces, so a rack reads as an open cabinet from any side.
  const racks = instanced(layout.racks, new THREE.MeshStandardMaterial({ side: THREE.BackSide }));
  const places = instanced(layout.places, new THREE.MeshStandardMaterial());
  let devices = instanced(layout.devices, new THREE.MeshStandardMaterial({ roughness: 0.6 }));
  const beaconBoxes: Box[] = layout.beacons.map((at: Vec3) => ({
    name: "",
    centre: at,
    size: [0.08, 0.5, 0.08],
    yaw: 0,
    colour: 0xff3b30,
    front: at,
  }));
  const beacons = instanced(beaconBoxes, new THREE.MeshBasicMaterial());
  const labels = labelsMesh(layout);
  const cables = cablesMesh(layout);
  const selected = new THREE.LineSegments(
    new THREE.EdgesGeometry(new THREE.BoxGeometry(1, 1, 1)),
    new THREE.LineBasicMaterial({ color: 0xffffff }),
  );
  selected.visible = false;
  for (const object of [racks, places, devices, beacons, labels, cables, selected]) scene.add(object);
  let boxes = layout.devices;

  let dirty = true;
  let frame = 0;
  let flight: { from: [THREE.Vector3, THREE.Vector3]; to: [THREE.Vector3, THREE.Vector3]; start: number } | null = null;
  const loop = (now: number) => {
    frame = requestAnimationFrame(loop);
    if (flight) {
      const t = Math.min(1, (now - flight.start) / 700);
      const e = t * t * (3 - 2 * t);
      camera.position.lerpVectors(flight.from[0], flight.to[0], e);
      controls.target.lerpVectors(flight.from[1], flight.to[1], e);
      if (t >= 1) flight = null;
      dirty = true;
    }
    if (controls.update() || dirty) {
      renderer.render(scene, camera);
      dirty = false;
    }
  };
  controls.addEventListener("change", () => (dirty = true));

  const resize = () => {
    const rect = canvas.getBoundingClientRect();
    renderer.setSize(Math.max(1, rect.width), Math.max(1, rect.height), false);
    camera.aspect = Math.max(1, rect.width) / Math.max(1, rect.height);
    camera.updateProjectionMatrix();
    dirty = true;
  };
  resize();
  if (camera.aspect < 1) {
    // A phone held upright: step back so the whole room fits across.
    camera.position.z += Math.max(w, d) * (1 / camera.aspect - 1) * 0.5;
    controls.update();
  }
  frame = requestAnimationFrame(loop);

  // Click (not drag) picks a device.
  const pointer = new THREE.Vector2();
  const ray = new THREE.Raycaster();
  let down: [number, number] | null = null;
  const onDown = (e: PointerEvent) => (down = [e.clientX, e.clientY]);
  const onUp = (e: PointerEvent) => {
    if (!down || Math.hypot(e.clientX - down[0], e.clientY - down[1]) > 5) return;
    const rect = canvas.getBoundingClientRect();
    pointer.set(((e.clientX - rect.left) / rect.width) * 2 - 1, -((e.clientY - rect.top) / rect.height) * 2 + 1);
    ray.setFromCamera(pointer, camera);
    const [hit] = ray.intersectObject(devices, false);
    if (hit && hit.instanceId !== undefined && boxes[hit.instanceId]) onPick(boxes[hit.instanceId].name);
  };
  canvas.addEventListener("pointerdown", onDown);
  canvas.addEventListener("pointerup", onUp);
  addEventListener("resize", resize);

  return {
    recolour(next: Layout) {
      if (next.devices.length !== boxes.length || next.devices.some((b, i) => b.name !== boxes[i].name)) return false;
      const colour = new THREE.Color();
      next.devices.forEach((box, i) => devices.setColorAt(i, colour.setHex(box.colour)));
      if (devices.instanceColor) devices.instanceColor.needsUpdate = true;
      boxes = next.devices;
      dirty = true;
      return true;
    },
    flyTo(name: string) {
      const box = boxes.find((b) => b.name === name);
      if (!box) return false;
      const m = new THREE.Matrix4();
      selected.matrixAutoUpdate = false;
      selected.matrix.copy(boxMatrix({ ...box, size: [box.size[0] + 0.03, box.size[1] + 0.03, box.size[2] + 0.03] }, m));
      selected.visible = true;
      const target = new THREE.Vector3(...box.front);
      const out = new THREE.Vector3(Math.sin(box.yaw), 0, Math.cos(box.yaw)).multiplyScalar(1.6);
      const eye = target.clone().add(out).add(new THREE.Vector3(0, 0.45, 0));
      flight = { from: [camera.position.clone(), controls.target.clone()], to: [eye, target], start: performance.now() };
      return true;
    },
    resize,
    info() {
      renderer.render(scene, camera);
      return { calls: renderer.info.render.calls, triangles: renderer.info.render.triangles };
    },
    timeFrames(frames: number) {
      const start = performance.now();
      const gl = renderer.getContext();
      for (let i = 0; i < frames; i++) {
        camera.position.applyAxisAngle(new THREE.Vector3(0, 1, 0), 0.002);
        renderer.render(scene, camera);
      }
      const pixel = new Uint8Array(4);
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel); // wait for the GPU (software GL)
      return (performance.now() - start) / frames;
    },
    dispose() {
      cancelAnimationFrame(frame);
      canvas.removeEventListener("pointerdown", onDown);
      canvas.removeEventListener("pointerup", onUp);
      removeEventListener("resize", resize);
      controls.dispose();
      scene.traverse((o) => {
        const mesh = o as THREE.Mesh;
        mesh.geometry?.dispose();
        const material = mesh.material as THREE.Material | THREE.Material[] | undefined;
        for (const m of Array.isArray(material) ? material : material ? [material] : []) {
          (m as THREE.MeshBasicMaterial).map?.dispose();
          m.dispose();
        }
      });
      renderer.dispose();
      devices = null as unknown as THREE.InstancedMesh;
    },
  };
}
