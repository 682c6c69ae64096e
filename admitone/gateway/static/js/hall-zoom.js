// The whole hall on a phone (the seat page's "Whole hall" view): the seat grid at a zoom that
// fits the screen, panned by dragging one finger (the frame scrolls), zoomed with two (pinch),
// with the zoom buttons, or with Ctrl + wheel. The frame is `touch-action: none` in this view,
// so every touch comes here rather than to the browser's own gestures; a tap still clicks. The zoom is CSS `zoom` on the grid, so the frame's
// scroll area, hit testing and `scrollIntoView` of a focused seat all follow it. The row view
// and the desktop map are not zoomed (`reset()`).

const MAX_ZOOM = 1.5;
const STEP = 1.25;

export class HallZoom {
  /** frame: the scrolling element around grid; grid: the seat grid; onChange(zoom, fit). */
  constructor({ frame, grid, onChange = () => {} }) {
    this.frame = frame;
    this.grid = grid;
    this.onChange = onChange;
    this.zoom = 1;
    this.active = false;
    this.pointers = new Map();
    this.pinch = null;
    frame.addEventListener("pointerdown", (event) => this.down(event));
    frame.addEventListener("pointermove", (event) => this.move(event));
    for (const type of ["pointerup", "pointercancel", "pointerleave"]) {
      frame.addEventListener(type, (event) => this.up(event));
    }
    frame.addEventListener("wheel", (event) => {
      if (!this.active || !event.ctrlKey) return;
      event.preventDefault();
      this.zoomAt(this.zoom * (event.deltaY < 0 ? STEP : 1 / STEP), event.clientX, event.clientY);
    }, { passive: false });
    window.addEventListener("resize", () => {
      if (this.active) this.set(Math.max(this.zoom, this.fit()));
    });
  }

  /** The zoom at which the whole hall is as wide as the frame (never above 1). */
  fit() {
    const previous = this.grid.style.zoom;
    this.grid.style.zoom = "1";
    const natural = this.grid.scrollWidth;
    this.grid.style.zoom = previous;
    const style = window.getComputedStyle(this.frame);
    const room = this.frame.clientWidth - parseFloat(style.paddingLeft || "0")
      - parseFloat(style.paddingRight || "0") - 1;
    return natural > 0 && room > 0 ? Math.min(1, room / natural) : 1;
  }

  start() {
    this.active = true;
    const fit = this.fit();
    this.set(fit);
    // The frame may settle a frame later (a scroll bar, a notice above): fit again if the
    // fan has not zoomed meanwhile.
    window.requestAnimationFrame(() => {
      if (this.active && this.zoom <= fit + 0.001) this.set(this.fit());
    });
  }

  reset() {
    this.active = false;
    this.pointers.clear();
    this.pinch = null;
    this.zoom = 1;
    this.grid.style.zoom = "";
  }

  set(zoom) {
    const fit = this.fit();
    this.zoom = Math.min(MAX_ZOOM, Math.max(fit, zoom));
    this.grid.style.zoom = String(this.zoom);
    this.onChange(this.zoom, fit);
  }

  /** Zoom keeping the point (clientX, clientY) of the hall where it is on screen. */
  zoomAt(zoom, clientX, clientY) {
    const box = this.frame.getBoundingClientRect();
    const x = clientX - box.left;
    const y = clientY - box.top;
    const hallX = (this.frame.scrollLeft + x) / this.zoom;
    const hallY = (this.frame.scrollTop + y) / this.zoom;
    this.set(zoom);
    this.frame.scrollLeft = hallX * this.zoom - x;
    this.frame.scrollTop = hallY * this.zoom - y;
  }

  zoomBy(factor) {
    const box = this.frame.getBoundingClientRect();
    this.zoomAt(this.zoom * factor, box.left + box.width / 2, box.top + box.height / 2);
  }

  down(event) {
    if (!this.active || event.pointerType !== "touch") return;
    this.pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    if (this.pointers.size === 2) {
      const [a, b] = [...this.pointers.values()];
      this.pinch = { distance: Math.hypot(a.x - b.x, a.y - b.y) || 1, zoom: this.zoom };
    }
  }

  move(event) {
    const before = this.pointers.get(event.pointerId);
    if (!before) return;
    this.pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    if (this.pointers.size === 1) {
      this.frame.scrollLeft -= event.clientX - before.x;
      this.frame.scrollTop -= event.clientY - before.y;
      return;
    }
    if (!this.pinch || this.pointers.size !== 2) return;
    const [a, b] = [...this.pointers.values()];
    const distance = Math.hypot(a.x - b.x, a.y - b.y);
    this.zoomAt(this.pinch.zoom * (distance / this.pinch.distance), (a.x + b.x) / 2,
      (a.y + b.y) / 2);
  }

  up(event) {
    this.pointers.delete(event.pointerId);
    if (this.pointers.size < 2) this.pinch = null;
  }
}
