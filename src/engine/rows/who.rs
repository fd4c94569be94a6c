//! Who a row is about — patient, practice and ICS — interned one chunk at a time, with the
//! practice from its column, `--practice-code` or `--patient-practices`.

use super::*;

/// Who a row is about: patient, practice and ICS, interned, for one chunk at a time.
#[derive(Default)]
pub(super) struct Who {
    pub(super) patients: Interner,
    pub(super) practices: Interner,
    pub(super) ics_codes: Interner,
    /// Per patient id and practice id: why it cannot be used ([`corrupt_text`], an NHS
    /// number in the practice column), worked out once when the id is first seen.
    pub(super) bad_patient: Vec<Option<&'static str>>,
    pub(super) bad_practice: Vec<Option<&'static str>>,
    /// Per ICS id: an NHS number in the extract's ics_code column.
    pub(super) bad_ics: Vec<Option<&'static str>>,
    /// Per row of the chunk being worked.
    pub(super) patient: Vec<u32>,
    pub(super) practice: Vec<u32>,
    pub(super) ics: Vec<u32>,
}

impl Who {
    pub(super) fn chunk(&mut self, c: &Columns) {
        self.patient.clear();
        self.practice.clear();
        self.ics.clear();
        let id = |interner: &mut Interner, v: &str| {
            if v.is_empty() {
                NONE
            } else {
                interner.get(v)
            }
        };
        let (mut last_patient, mut last_practice, mut last_ics) =
            (Last::new(), Last::new(), Last::new());
        for row in 0..c.rows {
            let p = last_patient.get(cell(c.patient, row), || {
                let p = id(&mut self.patients, cell(c.patient, row));
                if p != NONE && p as usize == self.bad_patient.len() {
                    self.bad_patient
                        .push(invisible_id(&self.patients.ids[p as usize]));
                }
                p
            });
            self.patient.push(p);
            let p = last_practice.get(c.practice_of(row), || {
                let p = id(&mut self.practices, c.practice_of(row));
                if p != NONE && p as usize == self.bad_practice.len() {
                    let code = &self.practices.ids[p as usize];
                    self.bad_practice.push(if code == NOT_LISTED {
                        Some("the patient is not in --patient-practices, so has no practice")
                    } else {
                        invisible_id(code).or_else(|| {
                            looks_like_nhs_number(code).then_some(
                                "practice_code looks like an NHS number (a shifted row?)",
                            )
                        })
                    });
                }
                p
            });
            self.practice.push(p);
            // The extract's ics_code may be empty: "" is a value here, not NONE.
            let ics = last_ics.get(cell(c.ics, row), || {
                let i = self.ics_codes.get(cell(c.ics, row));
                if i as usize == self.bad_ics.len() {
                    let code = &self.ics_codes.ids[i as usize];
                    self.bad_ics.push(
                        looks_like_nhs_number(code)
                            .then_some("ics_code looks like an NHS number (a shifted row?)"),
                    );
                }
                i
            });
            self.ics.push(ics);
        }
    }
}
