//! The stays P云 learns from a car park's uploads (pyun-carpark.md §4): an entry opens one, a
//! leave closes it, and only an open stay lets a coupon through to the car park.
//!
//! Dedupe is P云's: one accepted entry and one accepted leave per (`park_uuid`,
//! `parking_serial`); a repeat is answered as accepted and changes nothing (§4.2).

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

/// A stay as P云 knows it from the uploads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stay {
    /// The car park.
    pub park_uuid: String,
    /// The car park's stay ID, P云's dedupe key.
    pub parking_serial: String,
    /// The normalised plate, when one was uploaded.
    pub plate: Option<String>,
    /// `enter_time` as uploaded, epoch ms.
    pub enter_time: i64,
    /// `leave_time` as uploaded, epoch ms; `None` while open.
    pub leave_time: Option<i64>,
    /// Whether the car is still in the car park as far as P云 knows.
    pub open: bool,
    /// Whether an entry upload was accepted for it; `false` when only the leave arrived (§4.3
    /// note 8: the leave carries the entry fields).
    pub entered: bool,
    /// A leave whose `enter_time` differed from the entry's: P云 takes it as a record of its
    /// own (§4.3 note 9), so the entry it did not match stays open.
    pub enter_time_mismatch: bool,
    /// Entry uploads of this serial accepted and ignored as repeats.
    pub enter_repeats: u32,
    /// Leave uploads of this serial accepted and ignored as repeats.
    pub leave_repeats: u32,
}

/// What an accepted upload did to the stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StayChange {
    /// An entry opened a stay.
    Opened,
    /// A leave closed the stay its entry opened.
    Closed,
    /// A leave without an accepted entry: opened and closed at once (note 8).
    OpenedAndClosed,
    /// A leave whose `enter_time` matched no entry of the serial: a record of its own (note 9).
    SeparateRecord,
    /// An entry for a stay its leave already closed: recorded, the stay stays closed.
    EntryAfterLeave,
    /// A repeat of an accepted upload: ignored.
    Repeat,
}

/// The fields of an upload that matter to a stay.
#[derive(Debug, Clone)]
pub(crate) struct StayFields<'a> {
    pub(crate) park_uuid: &'a str,
    pub(crate) parking_serial: &'a str,
    /// Normalised.
    pub(crate) plate: Option<String>,
    pub(crate) enter_time: i64,
}

/// Every stay learned, in the order learned.
#[derive(Debug, Default)]
pub(crate) struct Stays {
    list: Vec<Stay>,
    /// (`park_uuid`, `parking_serial`) → the stay its first upload made.
    by_serial: HashMap<(String, String), usize>,
    /// Serials whose leave was accepted: the leave's own dedupe key.
    left: HashSet<(String, String)>,
}

impl Stays {
    /// Applies an accepted entry upload.
    pub(crate) fn enter(&mut self, f: &StayFields<'_>) -> StayChange {
        let key = (f.park_uuid.to_owned(), f.parking_serial.to_owned());
        if let Some(&i) = self.by_serial.get(&key) {
            let stay = &mut self.list[i];
            if stay.entered {
                stay.enter_repeats += 1;
                return StayChange::Repeat;
            }
            // The leave came first (the car park's queue misordered them): P云 already
            // closed the record and an entry does not reopen it.
            stay.entered = true;
            return StayChange::EntryAfterLeave;
        }
        self.by_serial.insert(key, self.list.len());
        self.list.push(new_stay(f, true));
        StayChange::Opened
    }

    /// Applies an accepted leave upload.
    pub(crate) fn leave(&mut self, f: &StayFields<'_>, leave_time: i64) -> StayChange {
        let key = (f.park_uuid.to_owned(), f.parking_serial.to_owned());
        if self.left.contains(&key) {
            if let Some(&i) = self.by_serial.get(&key) {
                self.list[i].leave_repeats += 1;
            }
            return StayChange::Repeat;
        }
        self.left.insert(key.clone());
        match self.by_serial.get(&key) {
            Some(&i) if self.list[i].enter_time == f.enter_time => {
                let stay = &mut self.list[i];
                stay.open = false;
                stay.leave_time = Some(leave_time);
                StayChange::Closed
            }
            Some(_) => {
                let mut stay = new_stay(f, false);
                stay.open = false;
                stay.leave_time = Some(leave_time);
                stay.enter_time_mismatch = true;
                self.list.push(stay);
                StayChange::SeparateRecord
            }
            None => {
                self.by_serial.insert(key, self.list.len());
                let mut stay = new_stay(f, false);
                stay.open = false;
                stay.leave_time = Some(leave_time);
                self.list.push(stay);
                StayChange::OpenedAndClosed
            }
        }
    }

    /// The newest open stay of `plate` (normalised) in `park_uuid`.
    pub(crate) fn open_for(&self, park_uuid: &str, plate: &str) -> Option<&Stay> {
        self.list
            .iter()
            .rev()
            .find(|s| s.open && s.park_uuid == park_uuid && s.plate.as_deref() == Some(plate))
    }

    /// How many stays of `park_uuid` are open.
    pub(crate) fn open_count(&self, park_uuid: &str) -> usize {
        self.list
            .iter()
            .filter(|s| s.open && s.park_uuid == park_uuid)
            .count()
    }

    /// Every stay, optionally of one car park, in the order learned.
    pub(crate) fn list(&self, park_uuid: Option<&str>) -> Vec<Stay> {
        self.list
            .iter()
            .filter(|s| park_uuid.is_none_or(|p| s.park_uuid == p))
            .cloned()
            .collect()
    }
}

fn new_stay(f: &StayFields<'_>, entered: bool) -> Stay {
    Stay {
        park_uuid: f.park_uuid.to_owned(),
        parking_serial: f.parking_serial.to_owned(),
        plate: f.plate.clone(),
        enter_time: f.enter_time,
        leave_time: None,
        open: true,
        entered,
        enter_time_mismatch: false,
        enter_repeats: 0,
        leave_repeats: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(serial: &'a str, plate: &str, enter_time: i64) -> StayFields<'a> {
        StayFields {
            park_uuid: "P",
            parking_serial: serial,
            plate: Some(plate.to_owned()),
            enter_time,
        }
    }

    #[test]
    fn entry_opens_leave_closes_repeats_are_counted() {
        let mut s = Stays::default();
        assert_eq!(s.enter(&fields("S1", "沪A1", 10)), StayChange::Opened);
        assert_eq!(s.enter(&fields("S1", "沪A1", 10)), StayChange::Repeat);
        assert_eq!(s.open_for("P", "沪A1").unwrap().parking_serial, "S1");
        assert!(s.open_for("Q", "沪A1").is_none());
        assert_eq!(s.open_count("P"), 1);
        assert_eq!(s.leave(&fields("S1", "沪A1", 10), 20), StayChange::Closed);
        assert_eq!(s.leave(&fields("S1", "沪A1", 10), 20), StayChange::Repeat);
        assert!(s.open_for("P", "沪A1").is_none());
        let all = s.list(Some("P"));
        assert_eq!(all.len(), 1);
        assert_eq!((all[0].enter_repeats, all[0].leave_repeats), (1, 1));
        assert_eq!(all[0].leave_time, Some(20));
        assert!(s.list(Some("Q")).is_empty());
    }

    #[test]
    fn a_leave_alone_opens_and_closes_and_a_late_entry_does_not_reopen() {
        let mut s = Stays::default();
        assert_eq!(
            s.leave(&fields("S1", "沪A1", 10), 20),
            StayChange::OpenedAndClosed
        );
        assert_eq!(
            s.enter(&fields("S1", "沪A1", 10)),
            StayChange::EntryAfterLeave
        );
        assert_eq!(s.enter(&fields("S1", "沪A1", 10)), StayChange::Repeat);
        assert!(s.open_for("P", "沪A1").is_none());
        let stay = &s.list(None)[0];
        assert!(stay.entered && !stay.open);
    }

    #[test]
    fn a_leave_with_another_enter_time_leaves_the_entry_open() {
        let mut s = Stays::default();
        s.enter(&fields("S1", "沪A1", 10));
        assert_eq!(
            s.leave(&fields("S1", "沪A1", 11), 20),
            StayChange::SeparateRecord
        );
        assert!(s.open_for("P", "沪A1").is_some());
        let all = s.list(None);
        assert_eq!(all.len(), 2);
        assert!(all[1].enter_time_mismatch && !all[1].open);
    }

    #[test]
    fn the_newest_open_stay_of_a_plate_wins() {
        let mut s = Stays::default();
        s.enter(&fields("S1", "沪A1", 10));
        s.enter(&fields("S2", "沪A1", 30));
        assert_eq!(s.open_for("P", "沪A1").unwrap().parking_serial, "S2");
    }
}
