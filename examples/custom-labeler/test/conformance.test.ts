import { describeLabelerConformance } from '@neurodissect/core/testing';
import { dominantColour } from '../src/dominant-colour';

describeLabelerConformance('dominant-colour', (world) => dominantColour({ read: world.probe.read }));
