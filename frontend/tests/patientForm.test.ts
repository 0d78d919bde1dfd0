import { describe, expect, it } from 'vitest';
import type { Patient } from '../src/lib/api';
import { emptyForm, formFromPatient, isDirty, mergeLatest, toInput } from '../src/lib/patientForm';

const patient: Patient = {
  id: 'p1',
  versionId: 'v1',
  clinicNo: 'OP-1',
  family: 'Schmidt',
  given: 'Catherine',
  other: '',
  sex: 'female',
  birthDate: '1982',
  birthEstimated: true,
  age: '~44 y',
  nationalId: '',
  phone: '',
  village: 'Lowland',
  address: '',
  kinName: '',
  kinRelation: '',
  kinPhone: '',
  updatedAt: '2026-01-01T00:00:00Z',
  updatedBy: 'admin',
  restricted: false,
};

describe('patient form helpers', () => {
  it('keeps death: the date goes only with deceased', () => {
    const dead = formFromPatient({ ...patient, deceased: true, deceasedDate: '2025-03-04' });
    expect(dead.deceased).toBe(true);
    expect(toInput(dead).deceasedDate).toBe('2025-03-04');
    expect(toInput({ ...dead, deceased: false }).deceasedDate).toBe('');
    expect(isDirty({ ...dead, deceased: false }, dead)).toBe(true);
    expect(formFromPatient(patient).deceased).toBe(false);
  });

  it('sends only the chosen birth input', () => {
    const v = { ...emptyForm(), birthDate: '1982-04-17', ageYears: '44' };
    expect(toInput(v)).toMatchObject({ birthDate: '1982-04-17', ageYears: '' });
    expect(toInput({ ...v, birthMode: 'estimate' })).toMatchObject({ birthDate: '', ageYears: '44' });
    expect(toInput(v)).not.toHaveProperty('birthMode');
  });

  it('turns an estimated birth year into an estimated age', () => {
    const f = formFromPatient(patient, new Date(2026, 0, 15));
    expect(f).toMatchObject({ birthMode: 'estimate', ageYears: '44', birthDate: '' });
  });

  it('keeps a full birth date', () => {
    const f = formFromPatient({ ...patient, birthDate: '1982-04-17', birthEstimated: false });
    expect(f).toMatchObject({ birthMode: 'date', birthDate: '1982-04-17', ageYears: '' });
  });

  it('knows when the form was changed', () => {
    const f = formFromPatient(patient);
    expect(isDirty({ ...f }, f)).toBe(false);
    expect(isDirty({ ...f, village: 'Upland' }, f)).toBe(true);
    // The hidden birth input does not count.
    expect(isDirty({ ...f, birthDate: '1999-01-01' }, f)).toBe(false);
  });

  it('merges the latest saved version with the user\'s own changes', () => {
    const original = formFromPatient(patient);
    const mine = { ...original, village: 'Upland', phone: '0700 000 000' };
    const latest = { ...original, phone: '0711 111 111', kinName: 'Jonas Schmidt' };
    const { values, conflicts } = mergeLatest(mine, original, latest);
    expect(values.village).toBe('Upland'); // only I changed it
    expect(values.kinName).toBe('Jonas Schmidt'); // only they changed it
    expect(values.phone).toBe('0700 000 000'); // both: mine kept, flagged
    expect(conflicts).toEqual(['phone']);
  });
});
