/**
 * One piece of anatomical evidence about where S1 is. Each module of this folder reads the column (../column.ts)
 * and votes for or against elements as S1, each vote with its strength and its reason in words. The decision
 * (../decide.ts) combines the votes; no single module can accept or refuse a series on its own.
 */
import type { Column } from '../column.js';

export type Strength = 'strong' | 'weak';

export interface Vote {
  /** index of the element (top to bottom) that this vote is about, as S1 */
  s1: number;
  support: 'for' | 'against';
  strength: Strength;
  why: string;
}

export interface Evidence {
  /** short name, e.g. "sacrum class" */
  name: string;
  votes: Vote[];
  /** what it saw, in one line (for the debug output and the overlay) */
  summary: string;
  /** S1 is one of these two elements and no other (the sacrum class when one element is mixed) */
  eitherOr?: [number, number];
}

export type EvidenceFn = (col: Column) => Evidence;
