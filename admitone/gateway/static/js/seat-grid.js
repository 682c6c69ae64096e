// The seat map as an ARIA grid: rows (`role=row`) with a row header and one `role=gridcell` per
// seat, each named "Row A, Seat 5, Available, Premium, ₹300" and marked by shape and pattern as
// well as colour (CSS classes `seat--available|selected|locked|booked`).
//
// One seat is in the tab order (roving tabindex). Arrow keys move seat by seat (up and down to
// the nearest seat number of the next row), Home/End to the ends of the row (with Ctrl: of the
// map), PageUp/PageDown five rows; Enter or Space picks. The row picker chooses the row shown on
// narrow screens (CSS shows only `.seat-row--current` there); moving focus to another row
// shows that row too.

const PAGE_ROWS = 5;

export class SeatGrid {
  /**
   * @param {object} options
   *   grid, picker: the grid and row-picker elements; t: the translator; price(amount) and
   *   typeName(seatType): formatters; isSelected(id); onToggle(id): Enter, Space or a click;
   *   onRowShown(name): the row picker showed a row.
   */
  constructor(options) {
    Object.assign(this, options);
    this.seats = new Map();   // id -> {id, row, number, seatType, status, price}
    this.rows = [];           // [{name, seats: [id, ...]}] in screen order
    this.cells = new Map();   // id -> gridcell element
    this.focusId = null;
    this.grid.addEventListener("keydown", (event) => this.onKey(event));
    this.grid.addEventListener("click", (event) => {
      const cell = event.target.closest("[data-seat]");
      if (!cell) return;
      this.focusSeat(cell.dataset.seat);
      this.onToggle(cell.dataset.seat);
    });
    this.grid.addEventListener("focusin", (event) => {
      const cell = event.target.closest("[data-seat]");
      if (cell && cell.dataset.seat !== this.focusId) this.focusSeat(cell.dataset.seat, false);
    });
    this.picker.addEventListener("click", (event) => {
      const button = event.target.closest("[data-row]");
      if (button) this.showRow(button.dataset.row, true);
    });
  }

  /** Build the grid for `seats` (a Map by id), in the API's order (row, then number). */
  render(seats) {
    this.seats = seats;
    const byRow = new Map();
    for (const seat of seats.values()) {
      if (!byRow.has(seat.row)) byRow.set(seat.row, []);
      byRow.get(seat.row).push(seat);
    }
    this.rows = [...byRow.entries()].map(([name, list]) => ({
      name, seats: list.sort((a, b) => a.number - b.number).map((seat) => seat.id),
    }));
    const cols = Math.max(0, ...[...seats.values()].map((seat) => seat.number));
    this.grid.setAttribute("aria-rowcount", String(this.rows.length));
    this.grid.setAttribute("aria-colcount", String(cols + 1));
    this.grid.setAttribute("aria-label", this.t("seats.grid_label", {
      rows: this.rows.length, seats: seats.size }));
    this.grid.replaceChildren();
    this.picker.replaceChildren();
    let lastType = null;
    this.rows.forEach((row, index) => {
      const type = seats.get(row.seats[0]).seatType;
      this.grid.append(this.makeRow(row, index, type, type !== lastType));
      this.picker.append(this.makePickerButton(row.name));
      lastType = type;
    });
    const start = [...seats.values()].find((seat) => seat.status === "AVAILABLE")
      || seats.values().next().value;
    if (start) {
      this.focusId = start.id;
      this.cells.get(start.id).tabIndex = 0;
      this.showRow(start.row, false);
    }
  }

  makeRow(row, index, type, startsGroup) {
    const rowEl = document.createElement("div");
    rowEl.className = "seat-row";
    rowEl.setAttribute("role", "row");
    rowEl.setAttribute("aria-rowindex", String(index + 1));
    rowEl.dataset.row = row.name;
    // The type and price over a row: shown above the first row of each type, and above the
    // one row on show on a narrow screen. The seats' own names say it to screen readers.
    const tag = document.createElement("div");
    tag.className = "seat-row__type";
    tag.setAttribute("aria-hidden", "true");
    tag.textContent = `${this.typeName(type)} · ${this.price(this.seats.get(row.seats[0]).price)}`;
    if (startsGroup) rowEl.classList.add("seat-row--group");
    else tag.classList.add("seat-row__type--repeat");
    const header = document.createElement("div");
    header.className = "seat-row__label";
    header.setAttribute("role", "rowheader");
    header.setAttribute("aria-colindex", "1");
    header.setAttribute("aria-label", this.t("seats.row_label", { row: row.name }));
    header.textContent = row.name;
    const seatsEl = document.createElement("div");
    seatsEl.className = "seat-row__seats";
    seatsEl.setAttribute("role", "presentation");
    for (const id of row.seats) seatsEl.append(this.makeCell(this.seats.get(id)));
    rowEl.append(tag, header, seatsEl);
    return rowEl;
  }

  makePickerButton(name) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "row-picker__button";
    button.dataset.row = name;
    button.textContent = name;
    button.setAttribute("aria-label", this.t("seats.row_label", { row: name }));
    button.setAttribute("aria-pressed", "false");
    return button;
  }

  makeCell(seat) {
    const cell = document.createElement("div");
    cell.setAttribute("role", "gridcell");
    cell.setAttribute("aria-colindex", String(seat.number + 1));
    cell.id = `seat-${seat.id}`;
    cell.dataset.seat = seat.id;
    cell.tabIndex = -1;
    const number = document.createElement("span");
    number.className = "seat__number";
    number.setAttribute("aria-hidden", "true");
    number.textContent = String(seat.number);
    const mark = document.createElement("span");
    mark.className = "seat__mark";
    mark.setAttribute("aria-hidden", "true");
    cell.append(number, mark);
    this.cells.set(seat.id, cell);
    this.paint(seat.id);
    return cell;
  }

  /** What the fan sees of a seat: its status, or SELECTED for its own picks. */
  viewStatus(seat) {
    return this.isSelected(seat.id) ? "SELECTED" : seat.status;
  }

  /** Redraw one seat (state class, name, aria-selected / aria-disabled). */
  paint(id) {
    const seat = this.seats.get(id);
    const cell = this.cells.get(id);
    if (!seat || !cell) return;
    const status = this.viewStatus(seat);
    cell.className = `seat seat--${status.toLowerCase()} seat--type-${seat.seatType.toLowerCase()}`;
    cell.setAttribute("aria-label", this.t("seats.cell", {
      row: seat.row, number: seat.number, state: this.t(`seats.state.${status}`),
      type: this.typeName(seat.seatType), price: this.price(seat.price),
    }));
    cell.setAttribute("aria-selected", status === "SELECTED" ? "true" : "false");
    if (status === "LOCKED" || status === "BOOKED") cell.setAttribute("aria-disabled", "true");
    else cell.removeAttribute("aria-disabled");
    cell.dataset.status = status;
  }

  focusSeat(id, moveFocus = true) {
    const cell = this.cells.get(id);
    if (!cell) return;
    const previous = this.cells.get(this.focusId);
    if (previous) previous.tabIndex = -1;
    this.focusId = id;
    cell.tabIndex = 0;
    this.showRow(this.seats.get(id).row, false);
    if (moveFocus) {
      cell.focus();
      cell.scrollIntoView({ block: "nearest", inline: "nearest" });
    }
  }

  showRow(name, fromPicker) {
    for (const rowEl of this.grid.querySelectorAll(".seat-row")) {
      rowEl.classList.toggle("seat-row--current", rowEl.dataset.row === name);
    }
    for (const button of this.picker.querySelectorAll("[data-row]")) {
      button.setAttribute("aria-pressed", button.dataset.row === name ? "true" : "false");
    }
    if (!fromPicker) return;
    const row = this.rows.find((item) => item.name === name);
    if (row && this.seats.get(this.focusId)?.row !== name) {
      const free = row.seats.find((id) => this.seats.get(id).status === "AVAILABLE");
      this.focusSeat(free || row.seats[0], false);
    }
    this.onRowShown(name);
  }

  nearestInRow(rowIndex, number) {
    const row = this.rows[rowIndex];
    let best = row.seats[0];
    for (const id of row.seats) {
      if (Math.abs(this.seats.get(id).number - number)
          < Math.abs(this.seats.get(best).number - number)) best = id;
    }
    return best;
  }

  onKey(event) {
    if (!this.focusId) return;
    const seat = this.seats.get(this.focusId);
    const rowIndex = this.rows.findIndex((item) => item.name === seat.row);
    const row = this.rows[rowIndex];
    const col = row.seats.indexOf(this.focusId);
    const lastRow = this.rows.length - 1;
    const near = (index) => this.nearestInRow(Math.max(0, Math.min(index, lastRow)), seat.number);
    let target = null;
    switch (event.key) {
      case "ArrowRight": target = row.seats[Math.min(col + 1, row.seats.length - 1)]; break;
      case "ArrowLeft": target = row.seats[Math.max(col - 1, 0)]; break;
      case "ArrowDown": target = near(rowIndex + 1); break;
      case "ArrowUp": target = near(rowIndex - 1); break;
      case "PageDown": target = near(rowIndex + PAGE_ROWS); break;
      case "PageUp": target = near(rowIndex - PAGE_ROWS); break;
      case "Home": target = event.ctrlKey ? this.rows[0].seats[0] : row.seats[0]; break;
      case "End": {
        const last = event.ctrlKey ? this.rows[lastRow] : row;
        target = last.seats[last.seats.length - 1];
        break;
      }
      case "Enter":
      case " ":
        event.preventDefault();
        this.onToggle(this.focusId);
        return;
      default:
        return;
    }
    event.preventDefault();
    if (target) this.focusSeat(target);
  }
}
