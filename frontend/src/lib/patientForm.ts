// Pure helpers for the register / edit patient form.

import type { Patient, PatientInput, Sex } from './api';
import { yearsSince } from './format';

export type BirthMode = 'date' | 'estimate';

export interface FormValues extends PatientInput {
  birthMode: BirthMode;
}

export const INPUT_FIELDS: (keyof PatientInput)[] = [
  'family',
  'given',
  'other',
  'sex',
  'birthDate',
  'ageYears',
  'nationalId',
  'phone',
  'village',
  'address',
  'kinName',
  'kinRelation',
  'kinPhone',
  'deceased',
  'deceasedDate',
];

export const FIELD_LABELS: Record<string, string> = {
  family: 'Family name',
  given: 'Given name',
  other: 'Other names',
  sex: 'Sex',
  birthDate: 'Date of birth',
  ageYears: 'Estimated age',
  nationalId: 'National ID',
  phone: 'Phone',
  village: 'Village',
  address: 'Address',
  kinName: 'Next of kin name',
  kinRelation: 'Relationship',
  kinPhone: 'Next of kin phone',
  deceased: 'Deceased',
  deceasedDate: 'Date of death',
  reason: 'Reason for change',
  birthMode: 'Birth date or estimated age',
};

const SEXES: Sex[] = ['', 'female', 'male', 'other', 'unknown'];

export function emptyForm(): FormValues {
  return {
    family: '',
    given: '',
    other: '',
    sex: '',
    birthDate: '',
    ageYears: '',
    nationalId: '',
    phone: '',
    village: '',
    address: '',
    kinName: '',
    kinRelation: '',
    kinPhone: '',
    deceased: false,
    deceasedDate: '',
    birthMode: 'date',
  };
}

/** Form values for editing an existing patient. */
export function formFromPatient(p: Patient, now: Date = new Date()): FormValues {
  const sex = (SEXES as string[]).includes(p.sex) ? (p.sex as Sex) : 'unknown';
  const estimated = p.birthEstimated;
  return {
    family: p.family ?? '',
    given: p.given ?? '',
    other: p.other ?? '',
    sex,
    birthDate: estimated ? '' : (p.birthDate ?? ''),
    ageYears: estimated ? yearsSince(p.birthDate, now) : '',
    nationalId: p.nationalId ?? '',
    phone: p.phone ?? '',
    village: p.village ?? '',
    address: p.address ?? '',
    kinName: p.kinName ?? '',
    kinRelation: p.kinRelation ?? '',
    kinPhone: p.kinPhone ?? '',
    deceased: !!p.deceased,
    deceasedDate: p.deceasedDate ?? '',
    birthMode: estimated ? 'estimate' : 'date',
  };
}

/** What is sent to the backend: only the birth input that is chosen. */
export function toInput(v: FormValues): PatientInput {
  const out = {} as PatientInput;
  for (const k of INPUT_FIELDS) (out as unknown as Record<string, unknown>)[k] = v[k];
  if (v.birthMode === 'date') out.ageYears = '';
  else out.birthDate = '';
  if (!v.deceased) out.deceasedDate = '';
  return out;
}

const COMPARED: (keyof FormValues)[] = [...INPUT_FIELDS, 'birthMode'];

export function isDirty(current: FormValues, original: FormValues): boolean {
  const a = toInput(current);
  const b = toInput(original);
  return current.birthMode !== original.birthMode || INPUT_FIELDS.some((k) => a[k] !== b[k]);
}

export interface MergeResult {
  values: FormValues;
  /** Fields changed both by this user and, differently, by someone else. */
  conflicts: string[];
}

/**
 * Field-level three-way merge used after E_CONFLICT: fields the user changed
 * keep the user's value, the others take the latest saved value.
 */
export function mergeLatest(current: FormValues, original: FormValues, latest: FormValues): MergeResult {
  const values = { ...current };
  const conflicts: string[] = [];
  const rec = values as unknown as Record<string, string>;
  const cur = current as unknown as Record<string, string>;
  const orig = original as unknown as Record<string, string>;
  const last = latest as unknown as Record<string, string>;
  for (const k of COMPARED) {
    const mine = cur[k] !== orig[k];
    const theirs = last[k] !== orig[k];
    if (!mine) rec[k] = last[k];
    else if (theirs && cur[k] !== last[k]) conflicts.push(k);
  }
  return { values, conflicts };
}
