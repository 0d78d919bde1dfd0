import { afterEach, beforeEach } from 'vitest';
import { installFakeGo } from './fakeGo';

beforeEach(() => {
  installFakeGo();
});

afterEach(() => {
  document.body.innerHTML = '';
});
