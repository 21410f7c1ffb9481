// A 28x28 drawing pad (mouse, pen and touch through pointer events): strokes of a soft brush,
// like MNIST's anti-aliased digits, reported as 784 pixel bytes (0 white .. 255 ink), row by row.
export class DrawPad {
  /** onChange(bytes): the image changed (once a frame); onEnd(): a stroke ended, after the last onChange. */
  constructor(canvas, onChange, onEnd) {
    this.canvas = canvas;
    this.onChange = onChange;
    this.onEnd = onEnd;
    this.pixels = new Float32Array(784); // 0..1
    this.down = false;
    this.pending = false;
    canvas.style.touchAction = 'none'; // a finger draws instead of scrolling the page
    canvas.addEventListener('pointerdown', (e) => {
      this.down = true;
      canvas.setPointerCapture(e.pointerId);
      this.stroke(e);
    });
    canvas.addEventListener('pointermove', (e) => {
      if (this.down) this.stroke(e);
    });
    const up = () => {
      if (!this.down) return;
      this.down = false;
      requestAnimationFrame(() => this.onEnd?.()); // after the frame's pending onChange
    };
    canvas.addEventListener('pointerup', up);
    canvas.addEventListener('pointercancel', up);
    this.paint();
  }
  stroke(e) {
    const r = this.canvas.getBoundingClientRect();
    const x = ((e.clientX - r.left) / r.width) * 28,
      y = ((e.clientY - r.top) / r.height) * 28;
    for (let py = Math.floor(y - 2); py <= y + 2; ++py) {
      for (let px = Math.floor(x - 2); px <= x + 2; ++px) {
        if (px < 0 || py < 0 || px >= 28 || py >= 28) continue;
        const d = Math.hypot(px + 0.5 - x, py + 0.5 - y);
        const ink = Math.max(0, Math.min(1, 1.6 - d));
        this.pixels[py * 28 + px] = Math.max(this.pixels[py * 28 + px], ink);
      }
    }
    this.changed();
  }
  /** Reports the image at the next frame (one engine run per frame however fast the pointer). */
  changed() {
    this.paint();
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.onChange(this.bytes());
    });
  }
  bytes() {
    return Uint8Array.from(this.pixels, (v) => Math.round(v * 255));
  }
  set(bytes) {
    for (let i = 0; i < 784; ++i) this.pixels[i] = bytes[i] / 255;
    this.changed();
  }
  clear() {
    this.pixels.fill(0);
    this.paint();
  }
  paint() {
    const ctx = this.canvas.getContext('2d');
    this.img_ ??= new ImageData(28, 28);
    this.small_ ??= new OffscreenCanvas(28, 28);
    const d = this.img_.data;
    for (let i = 0; i < 784; ++i) {
      const g = Math.round(255 * (1 - this.pixels[i]));
      d[4 * i] = d[4 * i + 1] = d[4 * i + 2] = g;
      d[4 * i + 3] = 255;
    }
    this.small_.getContext('2d').putImageData(this.img_, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.small_, 0, 0, this.canvas.width, this.canvas.height);
  }
}
